//! JSON Lines output: one JSON object per line, keys in column order. Unknown values
//! are `null`; instants are RFC 3339 strings in UTC; lists are arrays.
//!
//! Types: [`JsonlSink`].

use std::fs::File;
use std::io::{BufWriter, Write};

use serde_json::Value as Json;

use super::{csv::cell, Column, Sink, Value};

pub(crate) struct JsonlSink {
    out: BufWriter<File>,
    names: Vec<&'static str>,
}

impl JsonlSink {
    pub(crate) fn new(file: File, columns: &[Column]) -> JsonlSink {
        JsonlSink {
            out: BufWriter::new(file),
            names: columns.iter().map(|c| c.name).collect(),
        }
    }
}

fn json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Int(n) => Json::from(*n),
        Value::Bool(b) => Json::from(*b),
        Value::TextList(items) => Json::from(items.clone()),
        Value::Text(_) | Value::Time(_) | Value::Date(_) => Json::from(cell(value)),
    }
}

impl Sink for JsonlSink {
    fn write(&mut self, row: &[Value]) -> anyhow::Result<()> {
        // Written by hand: serde_json's map would sort the keys.
        self.out.write_all(b"{")?;
        for (i, (name, v)) in self.names.iter().zip(row).enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            serde_json::to_writer(&mut self.out, name)?;
            self.out.write_all(b":")?;
            serde_json::to_writer(&mut self.out, &json(v))?;
        }
        self.out.write_all(b"}\n")?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> anyhow::Result<()> {
        self.out
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        Ok(())
    }
}
