//! CSV output: a header naming the columns, then one record per row. Unknown values are
//! empty cells; instants are RFC 3339 in UTC; a list is its items joined by `;`.
//!
//! Types: [`CsvSink`]; function [`cell`].

use std::fs::File;
use std::io::BufWriter;

use chrono::SecondsFormat;

use super::{Column, Sink, Value};

/// The separator of list items in a CSV cell (language codes never contain it).
pub(crate) const LIST_SEPARATOR: char = ';';

pub(crate) struct CsvSink {
    out: csv::Writer<BufWriter<File>>,
}

impl CsvSink {
    pub(crate) fn new(file: File, columns: &[Column]) -> anyhow::Result<CsvSink> {
        let mut out = csv::Writer::from_writer(BufWriter::new(file));
        out.write_record(columns.iter().map(|c| c.name))?;
        Ok(CsvSink { out })
    }
}

impl Sink for CsvSink {
    fn write(&mut self, row: &[Value]) -> anyhow::Result<()> {
        self.out.write_record(row.iter().map(cell))?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> anyhow::Result<()> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(())
    }
}

/// The text of one cell.
pub(crate) fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Text(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Time(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        Value::Date(d) => d.to_string(),
        Value::TextList(items) => items.join(&LIST_SEPARATOR.to_string()),
    }
}
