//! A connection with its prepared statements: each statement is parsed once per connection and
//! then only bound and executed (one round trip instead of two).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

use crate::error::StoreError;

/// A connection and the statements prepared on it.
pub(crate) struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    /// When it last carried a statement.
    used: Instant,
}

/// A connection idle for longer than this is asked whether it still stands before it is used
/// (one round trip): a database restarted meanwhile closed it, and the client only learns that
/// when it next reads from it.
const IDLE: Duration = Duration::from_secs(1);
/// How long that question may take.
const ASK: Duration = Duration::from_secs(2);

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Conn {
    pub(crate) fn new(client: Client) -> Self {
        Conn {
            client,
            statements: HashMap::new(),
            used: Instant::now(),
        }
    }

    /// Whether the database closed the connection.
    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Whether the connection is closed, or — idle for a while — does not answer.
    pub(crate) fn is_gone(&mut self) -> bool {
        if self.client.is_closed() {
            return true;
        }
        self.used.elapsed() > IDLE && self.client.is_valid(ASK).is_err()
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        self.used = Instant::now();
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    pub(crate) fn execute(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params)
    }

    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params)
    }

    pub(crate) fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query_opt(&statement, params)
    }

    pub(crate) fn query_one(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Row, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query_one(&statement, params)
    }

    /// Statements without parameters, unprepared (`BEGIN`, `COMMIT`, …).
    pub(crate) fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.used = Instant::now();
        self.client.batch_execute(sql)
    }
}

/// Opens a connection (no TLS: the database is on the issuer's own network).
pub(crate) fn connect(url: &str) -> Result<Client, StoreError> {
    let config: postgres::Config = url
        .parse()
        .map_err(|e: postgres::Error| StoreError::Unavailable(e.to_string()))?;
    let mut config = config;
    config.connect_timeout(std::time::Duration::from_secs(5));
    config
        .connect(NoTls)
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}
