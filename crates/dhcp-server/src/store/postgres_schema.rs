//! The PostgreSQL schema of the shared lease store, and its migration.
//!
//! Everything lives in the `dhcpd_pxe` schema (so the database can be shared with
//! other programs, Kea's `lease4` included):
//! - `dhcpd_pxe.schema_version`: one row, the version of the tables below;
//! - `dhcpd_pxe.lease`: one row per address ever leased: the address is the
//!   primary key, so two servers can never hold one address at once; a write is
//!   an `INSERT … ON CONFLICT (addr) DO UPDATE … WHERE` (free, expired, or
//!   already this client's) that the database decides;
//!   since version 2 a row also holds the lease's details (`started`, `hostname`,
//!   `arch`, `boot_file`: what `dhcpd-pxe leases` shows from a journal);
//! - `dhcpd_pxe.lease_version`: a sequence; every write takes the next value, so
//!   a server reads what others wrote since it last looked.

use postgres::Client;

use crate::error::Error;

/// The schema version this program writes and reads.
pub const SCHEMA_VERSION: i32 = 2;

/// The tables of [`SCHEMA_VERSION`] (docs/dhcpd-pxe-postgres.md shows them too).
pub const SCHEMA_SQL: &str = "
CREATE SCHEMA IF NOT EXISTS dhcpd_pxe;
CREATE TABLE IF NOT EXISTS dhcpd_pxe.schema_version (
    version integer NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS dhcpd_pxe.lease_version;
CREATE TABLE IF NOT EXISTS dhcpd_pxe.lease (
    addr    inet    PRIMARY KEY,
    client  bytea   NOT NULL,
    state   text    NOT NULL CHECK (state IN ('bound', 'released', 'declined')),
    expires bigint,
    tenure  text    NOT NULL CHECK (tenure IN ('fresh', 'renewed', 'bootp', 'reserved')),
    server  text    NOT NULL,
    version bigint  NOT NULL DEFAULT nextval('dhcpd_pxe.lease_version')
);
CREATE INDEX IF NOT EXISTS lease_version_idx ON dhcpd_pxe.lease (version);
ALTER TABLE dhcpd_pxe.lease
    ADD COLUMN IF NOT EXISTS started   bigint,
    ADD COLUMN IF NOT EXISTS hostname  bytea,
    ADD COLUMN IF NOT EXISTS arch      integer,
    ADD COLUMN IF NOT EXISTS boot_file bytea;
";

/// Any number: the advisory lock two servers starting at once take around
/// the migration.
const MIGRATION_LOCK: i64 = 0x6468_6370_6470_7865;

/// Creates the schema when missing, checks its version otherwise. Returns the
/// version found before (`None`: created now). A newer schema than this
/// program's is an error, never touched.
pub(super) fn migrate(client: &mut Client) -> Result<Option<i32>, Error> {
    let err = |what: &str| {
        let what = what.to_string();
        move |e: postgres::Error| Error::database(what, e)
    };
    let mut tx = client
        .transaction()
        .map_err(err("starting the migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(err("locking the schema"))?;
    let exists: bool = tx
        .query_one(
            "SELECT to_regclass('dhcpd_pxe.schema_version') IS NOT NULL",
            &[],
        )
        .map_err(err("looking for the schema"))?
        .get(0);
    let found = if exists {
        tx.query_opt("SELECT max(version) FROM dhcpd_pxe.schema_version", &[])
            .map_err(err("reading the schema version"))?
            .and_then(|r| r.get::<_, Option<i32>>(0))
    } else {
        None
    };
    match found {
        Some(v) if v > SCHEMA_VERSION => {
            return Err(Error::database(
                "checking the schema",
                format!(
                    "the database holds schema version {v}, this program knows up to \
                     {SCHEMA_VERSION}; upgrade dhcpd-pxe"
                ),
            ))
        }
        Some(v) if v == SCHEMA_VERSION => {}
        _ => {
            // Every statement is idempotent: on version 1 it adds the
            // columns of version 2 (the lease details), on nothing it creates all.
            tx.batch_execute(SCHEMA_SQL)
                .map_err(err("creating the schema"))?;
            tx.execute("DELETE FROM dhcpd_pxe.schema_version", &[])
                .map_err(err("writing the schema version"))?;
            tx.execute(
                "INSERT INTO dhcpd_pxe.schema_version (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .map_err(err("writing the schema version"))?;
        }
    }
    tx.commit().map_err(err("committing the migration"))?;
    Ok(found)
}
