//! The PostgreSQL lease store against a real server: a cluster of the
//! test's own (tests/support/pg.rs), on a Unix socket in a temp directory.
//! Migrations from empty, the version table, refusal of a newer schema, the
//! messages for an unreachable server, a wrong password and a missing
//! database, a batch written and read back, concurrent writers racing
//! for one address: exactly one wins; one server follows another's writes
//! (and not its own); the database stopped and started again: writes fail
//! at once while it is down, and succeed by themselves once it is back.

mod support;

use std::net::Ipv4Addr;

use netboot::dhcp::pg::PgStore;
use netboot::dhcp::pool::{Lease, LeaseState};
use netboot::mac::MacAddr;
use support::pg::Cluster;

fn lease(ip: u8, mac: u8, state: LeaseState) -> Lease {
    Lease {
        ip: Ipv4Addr::new(10, 0, 0, ip),
        mac: MacAddr([2, 0, 0, 0, 0, mac]),
        expires: 4_000_000_000,
        state,
        hostname: ip.is_multiple_of(2).then(|| format!("host-{ip}")),
    }
}

async fn open(url: &str) -> Result<(PgStore, Vec<Lease>), String> {
    PgStore::open(url, Vec::new())
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_versions_and_a_newer_schema() {
    let pg = Cluster::start();
    let (_store, leases) = open(&pg.url("netboot")).await.unwrap();
    assert!(leases.is_empty());
    assert_eq!(
        pg.psql(
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM netboot_schema_version"
        ),
        "1,2,3"
    );
    // a second start migrates nothing
    open(&pg.url("netboot")).await.unwrap();
    assert_eq!(pg.psql("SELECT count(*) FROM netboot_schema_version"), "3");
    pg.psql("INSERT INTO netboot_schema_version (version) VALUES (99)");
    let err = open(&pg.url("netboot")).await.unwrap_err();
    assert!(
        err.contains("schema version 99, newer than this netboot knows (3)")
            && err.contains("upgrade netboot"),
        "{err}"
    );
    assert!(!err.contains(support::pg::PASSWORD), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_wrong_password_and_missing_database_are_told_apart() {
    let pg = Cluster::start();
    let gone = tempfile::tempdir().unwrap();
    let url = format!(
        "postgres://netboot:x@/netboot?host={}",
        gone.path().display()
    );
    let err = open(&url).await.unwrap_err();
    assert!(
        err.starts_with("cannot reach the lease database netboot@")
            && err.contains("start PostgreSQL there")
            && !err.contains('\n'),
        "{err}"
    );
    let url = format!("postgres://netboot:wrong@/netboot?host={}", pg.socket_dir());
    let err = open(&url).await.unwrap_err();
    assert!(
        err.contains("refused user \"netboot\"") && err.contains("fix the user or password"),
        "{err}"
    );
    assert!(
        !err.contains("wrong"),
        "the password is in the message: {err}"
    );
    let err = open(&pg.url("nosuchdb")).await.unwrap_err();
    assert!(
        err.contains("does not exist") && err.contains("createdb"),
        "{err}"
    );
    let err = open("postgres://netboot@/db?host=/x&bogus=1")
        .await
        .unwrap_err();
    assert!(
        err.contains("is not valid") && err.contains("postgres://"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reads_back_the_same_and_a_client_moves() {
    let pg = Cluster::start();
    let (store, _) = open(&pg.url("netboot")).await.unwrap();
    let batch = vec![
        lease(1, 1, LeaseState::Bound),
        lease(2, 2, LeaseState::Bound),
        lease(3, 3, LeaseState::Declined),
        lease(4, 4, LeaseState::Released),
    ];
    assert_eq!(
        store.append_batch(&batch).await.unwrap(),
        Vec::<Lease>::new()
    );
    let (_, again) = open(&pg.url("netboot")).await.unwrap();
    assert_eq!(again, batch);
    // client 1 moves to .5: its old lease is released in the same batch
    store
        .append_batch(&[lease(5, 1, LeaseState::Bound)])
        .await
        .unwrap();
    assert_eq!(
        pg.psql("SELECT host(ip) || ' ' || state FROM netboot_leases WHERE mac = '02:00:00:00:00:01' ORDER BY ip"),
        "10.0.0.1 released\n10.0.0.5 bound"
    );
}

/// One batch may hold several records of one address (a client offered
/// and bound within one commit group, or released and taken by the next
/// client): the later record is what the database keeps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_later_of_two_records_of_one_address_in_a_batch_wins() {
    let pg = Cluster::start();
    let (store, _) = open(&pg.url("netboot")).await.unwrap();
    let refused = store
        .append_batch(&[
            lease(9, 1, LeaseState::Offered),
            lease(3, 3, LeaseState::Bound),
            lease(9, 1, LeaseState::Bound),
            lease(4, 4, LeaseState::Released),
            lease(4, 5, LeaseState::Offered),
        ])
        .await
        .unwrap();
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(
        pg.psql("SELECT host(ip) || ' ' || mac || ' ' || state FROM netboot_leases ORDER BY ip"),
        "10.0.0.3 02:00:00:00:00:03 bound\n10.0.0.4 02:00:00:00:00:05 offered\n10.0.0.9 02:00:00:00:00:01 bound"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_address_is_refused_and_the_rest_of_its_batch_commits() {
    let pg = Cluster::start();
    let (a, _) = open(&pg.url("netboot")).await.unwrap();
    let (b, _) = open(&pg.url("netboot")).await.unwrap();
    a.append_batch(&[lease(7, 1, LeaseState::Bound)])
        .await
        .unwrap();
    let refused = b
        .append_batch(&[
            lease(6, 2, LeaseState::Bound),
            lease(7, 3, LeaseState::Bound),
            lease(8, 4, LeaseState::Bound),
        ])
        .await
        .unwrap();
    assert_eq!(refused, vec![lease(7, 3, LeaseState::Bound)]);
    assert_eq!(
        pg.psql("SELECT host(ip) || ' ' || mac FROM netboot_leases ORDER BY ip"),
        "10.0.0.6 02:00:00:00:00:02\n10.0.0.7 02:00:00:00:00:01\n10.0.0.8 02:00:00:00:00:04"
    );
    // the holder's RELEASE frees it for the next client
    a.append_batch(&[lease(7, 1, LeaseState::Released)])
        .await
        .unwrap();
    assert!(b
        .append_batch(&[lease(7, 3, LeaseState::Bound)])
        .await
        .unwrap()
        .is_empty());
}

/// Several stores (as several servers) write the same address for different
/// MACs at once, round after round: exactly one wins each time, and the
/// database holds the winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_of_one_address_never_both_win() {
    let pg = Cluster::start();
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(open(&pg.url("netboot")).await.unwrap().0);
    }
    for round in 1..=40u8 {
        let mut tasks = Vec::new();
        for (i, store) in stores.iter().enumerate() {
            let store = store.clone();
            let mine = lease(round, 100 + i as u8, LeaseState::Bound);
            tasks.push(tokio::spawn(async move {
                let refused = store
                    .append_batch(std::slice::from_ref(&mine))
                    .await
                    .unwrap();
                (mine.mac, refused.is_empty())
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            let (mac, won) = t.await.unwrap();
            if won {
                winners.push(mac);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let held = pg.psql(&format!(
            "SELECT mac FROM netboot_leases WHERE ip = '10.0.0.{round}'"
        ));
        assert_eq!(held, winners[0].colon(), "round {round}");
    }
}

/// Two servers writing the same clients' offers in opposite orders (two
/// instances on one segment both answer every DISCOVER): rows are locked in
/// address order, so no batch deadlocks and the database never counts as down.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_writing_the_same_rows_do_not_deadlock() {
    let pg = Cluster::start();
    let (a, _) = open(&pg.url("netboot")).await.unwrap();
    let (b, _) = open(&pg.url("netboot")).await.unwrap();
    let batch: Vec<Lease> = (1..=60u8)
        .map(|i| lease(i, i, LeaseState::Offered))
        .collect();
    let reversed: Vec<Lease> = batch.iter().rev().cloned().collect();
    for round in 0..30 {
        let (a, b) = (a.clone(), b.clone());
        let (one, two) = (batch.clone(), reversed.clone());
        let first = tokio::spawn(async move { a.append_batch(&one).await });
        let second = tokio::spawn(async move { b.append_batch(&two).await });
        for (who, r) in [("first", first.await), ("second", second.await)] {
            let refused = r
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}, {who}: {e}"));
            assert!(refused.is_empty(), "round {round}: {refused:?}");
        }
    }
    assert_eq!(pg.psql("SELECT count(*) FROM netboot_leases"), "60");
    // the servers' connections end, and their backends report their counts
    drop((a, b));
    let mut deadlocks = String::new();
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        deadlocks = pg.psql("SELECT deadlocks FROM pg_stat_database WHERE datname = 'netboot'");
        if pg.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'netboot'") == "1" {
            break;
        }
    }
    assert_eq!(deadlocks, "0", "deadlocks between the two servers");
}

/// A batch as large as a busy second's: every record is written, and the
/// time it took is printed (run with --nocapture to see it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_batch_commits_whole() {
    let pg = Cluster::start();
    let (store, _) = open(&pg.url("netboot")).await.unwrap();
    let batch: Vec<Lease> = (0..5000u32)
        .map(|n| Lease {
            ip: Ipv4Addr::from(0x0a01_0000 + n),
            mac: MacAddr([2, 1, 0, 0, (n >> 8) as u8, n as u8]),
            expires: 4_000_000_000,
            state: LeaseState::Bound,
            hostname: None,
        })
        .collect();
    let started = std::time::Instant::now();
    assert!(store.append_batch(&batch).await.unwrap().is_empty());
    let took = started.elapsed();
    println!("5000 new leases in one batch: {took:?}");
    assert_eq!(pg.psql("SELECT count(*) FROM netboot_leases"), "5000");
    let started = std::time::Instant::now();
    assert!(store.append_batch(&batch).await.unwrap().is_empty());
    println!("the same 5000 renewed: {:?}", started.elapsed());
}

fn pool_24() -> Vec<netboot::dhcp::config::Subnet> {
    vec![netboot::dhcp::config::Subnet::new(Ipv4Addr::new(10, 0, 0, 0), 24).unwrap()]
}

/// Two servers on one database, `b` following the other's writes (reading
/// at least every `every`) into `rx` until `cancel`.
struct Following {
    a: PgStore,
    b: PgStore,
    rx: tokio::sync::mpsc::Receiver<Vec<Lease>>,
    cancel: tokio_util::sync::CancellationToken,
}

async fn following(pg: &Cluster, every: std::time::Duration) -> Following {
    let url = pg.url("netboot");
    let (a, _, _) = PgStore::open_following(&url, pool_24()).await.unwrap();
    let (b, _, horizon) = PgStore::open_following(&url, pool_24()).await.unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let cancel = tokio_util::sync::CancellationToken::new();
    let follower = netboot::dhcp::pg::follow_every(b.clone(), horizon, every, tx, cancel.clone());
    tokio::spawn(follower);
    Following { a, b, rx, cancel }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_follows_the_others_writes_and_not_its_own() {
    use std::time::Duration;
    let pg = Cluster::start();
    let Following {
        a,
        b,
        mut rx,
        cancel,
    } = following(&pg, netboot::dhcp::pg::EVERY).await;

    b.append_batch(&[lease(20, 20, LeaseState::Bound)])
        .await
        .unwrap();
    a.append_batch(&[lease(10, 1, LeaseState::Bound)])
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("the other server's lease within 5 s")
        .unwrap();
    assert_eq!(
        got,
        vec![lease(10, 1, LeaseState::Bound)],
        "b's own row came back"
    );

    // the client moves on server a: b hears the new lease and the release
    a.append_batch(&[lease(11, 1, LeaseState::Bound)])
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let rows = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("the move within 5 s")
            .unwrap();
        seen.extend(rows);
        seen.dedup();
    }
    let states: Vec<(Ipv4Addr, LeaseState)> = seen.iter().map(|l| (l.ip, l.state)).collect();
    assert!(
        states.contains(&(Ipv4Addr::new(10, 0, 0, 11), LeaseState::Bound)),
        "{states:?}"
    );
    assert!(
        states.contains(&(Ipv4Addr::new(10, 0, 0, 10), LeaseState::Released)),
        "{states:?}"
    );
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_fail_at_once_while_the_database_is_down_and_work_once_it_is_back() {
    use std::time::{Duration, Instant};
    let pg = Cluster::start();
    let (store, _) = PgStore::open(&pg.url("netboot"), pool_24()).await.unwrap();
    store
        .append_batch(&[lease(1, 1, LeaseState::Bound)])
        .await
        .unwrap();
    pg.stop();
    let err = store
        .append_batch(&[lease(2, 2, LeaseState::Bound)])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is down") && err.contains("no address is offered"),
        "{err}"
    );
    let t = Instant::now();
    let again = store
        .append_batch(&[lease(3, 3, LeaseState::Bound)])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "a write waited for a down database"
    );
    assert!(again.contains("trying again in"), "{again}");

    pg.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match store.append_batch(&[lease(4, 4, LeaseState::Bound)]).await {
            Ok(refused) => {
                assert!(refused.is_empty());
                break;
            }
            Err(e) => assert!(
                Instant::now() < deadline,
                "still failing after the restart: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        pg.psql("SELECT string_agg(host(ip), ',' ORDER BY ip) FROM netboot_leases"),
        "10.0.0.1,10.0.0.4",
        "a lease written while the database was down"
    );
}

/// A commit is announced to the other servers (LISTEN/NOTIFY): a follower
/// that reads on its own only once an hour still gets the other server's
/// leases, one after another, as they are committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_is_told_of_each_commit_without_waiting_for_its_tick() {
    use std::time::Duration;
    let pg = Cluster::start();
    let hour = Duration::from_secs(3600);
    let Following {
        a, mut rx, cancel, ..
    } = following(&pg, hour).await;
    // the follower's first read (at once) or its first announcement
    let mut first = None;
    for i in 0..20u8 {
        a.append_batch(&[lease(30 + i, 30 + i, LeaseState::Bound)])
            .await
            .unwrap();
        if let Ok(got) = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
            first = got;
            break;
        }
    }
    assert!(first.is_some(), "the follower saw nothing of 20 commits");
    // from now on only an announcement can bring a row within the hour
    for ip in [60, 61, 62] {
        a.append_batch(&[lease(ip, ip, LeaseState::Bound)])
            .await
            .unwrap();
        let mut seen = Vec::new();
        while !seen
            .iter()
            .any(|l: &Lease| l.ip == Ipv4Addr::new(10, 0, 0, ip))
        {
            let rows = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .unwrap_or_else(|_| panic!("lease .{ip} not announced within 10 s"))
                .unwrap();
            seen.extend(rows);
        }
    }
    cancel.cancel();
}
