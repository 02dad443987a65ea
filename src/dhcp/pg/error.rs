//! Why the PostgreSQL lease store failed, each as one line saying what is
//! wrong, where, and the fix; and the URL's description without its password.

use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::Config;

/// Where to fix the URL, named in the messages.
const WHERE: &str = "dhcp.leases in netboot.yaml or --leases-url";

/// A failure of the PostgreSQL lease store.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(
        "the lease database URL {url:?} is not valid ({reason}); write it as \
         postgres://USER:PASSWORD@HOST/DATABASE or postgres:///DATABASE?host=/run/postgresql \
         in {WHERE}"
    )]
    Url { url: String, reason: String },
    #[error(
        "cannot reach the lease database {target} ({reason}); start PostgreSQL there, or fix \
         the host, port or socket directory in {WHERE}"
    )]
    Unreachable { target: String, reason: String },
    #[error(
        "the lease database {target} refused user {user:?} ({reason}); fix the user or \
         password in {WHERE}, or the server's pg_hba.conf"
    )]
    Credentials {
        target: String,
        user: String,
        reason: String,
    },
    #[error(
        "the lease database {target} does not exist; create it (createdb -O USER DATABASE) or \
         fix its name in {WHERE}"
    )]
    NoDatabase { target: String },
    #[error(
        "the lease database {target} has schema version {found}, newer than this netboot knows \
         ({known}); upgrade netboot, or give it a database of its own"
    )]
    SchemaNewer {
        target: String,
        found: i32,
        known: i32,
    },
    #[error("lease database {target}: {reason}")]
    Query { target: String, reason: String },
    #[error(
        "lease database {target}: another server wrote the same leases at the same time \
         ({reason}) and kept doing so when tried again; these replies are withheld and the \
         clients' retransmissions answered"
    )]
    Contended { target: String, reason: String },
    #[error(
        "the lease database {target} is down ({reason}); trying again in {retry_secs} s; \
         no address is offered or acknowledged until it answers"
    )]
    Down {
        target: String,
        reason: String,
        retry_secs: u64,
    },
}

/// `user@host:port/database` (no password), for messages.
pub fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(dir)) => dir.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().or(config.get_user()).unwrap_or("-");
    format!("{}@{host}:{port}/{db}", config.get_user().unwrap_or("-"))
}

/// Sorts a client error into the kinds above.
pub fn classify(config: &Config, e: &tokio_postgres::Error) -> PgError {
    let target = describe(config);
    let reason = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => error_chain(e),
    };
    match e.code() {
        Some(c) if *c == SqlState::INVALID_PASSWORD => credentials(config, target, reason),
        Some(c) if *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
            credentials(config, target, reason)
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => PgError::NoDatabase { target },
        Some(_) => PgError::Query { target, reason },
        None if reason.contains("password") => credentials(config, target, reason),
        None => PgError::Unreachable { target, reason },
    }
}

fn credentials(config: &Config, target: String, reason: String) -> PgError {
    PgError::Credentials {
        target,
        user: config.get_user().unwrap_or("-").to_string(),
        reason,
    }
}

/// The error and its sources on one line ("error connecting to server:
/// Connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = s.source();
    }
    text
}

/// Sorts a pool error into the kinds above.
pub fn classify_pool(config: &Config, e: deadpool_postgres::PoolError) -> PgError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => classify(config, &e),
        other => PgError::Unreachable {
            target: describe(config),
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_leaves_the_password_out() {
        let c: Config = "postgres://dhcp:s3cret@db.example:5433/leases"
            .parse()
            .unwrap();
        assert_eq!(describe(&c), "dhcp@db.example:5433/leases");
        let c: Config = "postgres://dhcp@/netboot?host=/run/postgresql"
            .parse()
            .unwrap();
        assert_eq!(describe(&c), "dhcp@/run/postgresql:5432/netboot");
    }
}
