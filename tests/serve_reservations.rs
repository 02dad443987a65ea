//! `netboot serve` warns about a reservation no served subnet can honour
//! (the machine would get silence), at start and after a reload, naming the
//! profile, its file:line and the subnets served; the machine on the served
//! subnet still gets its reservation. Inside network namespaces this test
//! creates and deletes.

mod netns;

use std::time::Duration;

use netns::{Lab, CLIENT_MAC};

const WARNING: &str = "outside every subnet netboot serves (10.231.0.0/24)";

#[test]
fn a_reservation_outside_the_served_subnets_is_warned_at_start_and_on_reload() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    let lab_yaml = format!(
        "name: lab\nhosts:\n  - mac: 52:54:00:10:00:01\n    address: 192.168.50.11\n  \
         - mac: {CLIENT_MAC}\n    address: 10.231.0.42\n"
    );
    let dirs = lab.start_serve_on(&[("lab.yaml", &lab_yaml)], &["--no-ping"]);
    lab.wait_log(WARNING, Duration::from_secs(10));
    let said = format!("lab.yaml:3: profile `lab` reserves 192.168.50.11, {WARNING}");
    assert!(lab.log_contains(&said), "{}", lab.log());
    let lease = lab.udhcpc(&[]);
    assert_eq!(lease.get("ip").map(String::as_str), Some("10.231.0.42"));

    std::fs::write(
        dirs.profiles.join("office.yaml"),
        "name: office\nmatch:\n  mac: 52:54:00:20:00:01\naddress: 172.16.9.9\n",
    )
    .unwrap();
    lab.wait_log(
        "profile `office` reserves 172.16.9.9",
        Duration::from_secs(15),
    );
    assert!(
        lab.log_contains(&format!(
            "office.yaml:3: profile `office` reserves 172.16.9.9, {WARNING}"
        )),
        "{}",
        lab.log()
    );
}
