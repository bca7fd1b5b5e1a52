//! Parquet output through the Apache Arrow crates: typed columns (UTC timestamps in
//! milliseconds, 64-bit integers, booleans, dates, a list of strings), nullable, Snappy
//! compressed, written in record batches of [`BATCH_ROWS`] so memory stays bounded.
//!
//! Types: [`ParquetSink`].

use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::{Column, Kind, Sink, Value};

/// Rows per record batch (and the unit of buffering).
const BATCH_ROWS: usize = 16 * 1024;
/// Rows per row group: the writer holds one encoded row group in memory, so this bounds
/// its memory (a few MiB) while keeping groups large enough for engines to skip by.
const ROW_GROUP_ROWS: usize = 128 * 1024;

enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMillisecondBuilder),
    Date(Date32Builder),
    TextList(ListBuilder<StringBuilder>),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Text => Builder::Text(StringBuilder::new()),
            Kind::Int => Builder::Int(Int64Builder::new()),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
            Kind::Time => Builder::Time(TimestampMillisecondBuilder::new().with_timezone("UTC")),
            Kind::Date => Builder::Date(Date32Builder::new()),
            Kind::TextList => Builder::TextList(ListBuilder::new(StringBuilder::new())),
        }
    }

    fn append(&mut self, value: &Value) -> anyhow::Result<()> {
        match (self, value) {
            (Builder::Text(b), Value::Text(s)) => b.append_value(s),
            (Builder::Text(b), Value::Null) => b.append_null(),
            (Builder::Int(b), Value::Int(n)) => b.append_value(*n),
            (Builder::Int(b), Value::Null) => b.append_null(),
            (Builder::Bool(b), Value::Bool(v)) => b.append_value(*v),
            (Builder::Bool(b), Value::Null) => b.append_null(),
            (Builder::Time(b), Value::Time(t)) => b.append_value(t.timestamp_millis()),
            (Builder::Time(b), Value::Null) => b.append_null(),
            (Builder::Date(b), Value::Date(d)) => b.append_value(
                d.days_since(crate::day::Day::from_ymd(1970, 1, 1).expect("a valid date")) as i32,
            ),
            (Builder::Date(b), Value::Null) => b.append_null(),
            (Builder::TextList(b), Value::TextList(items)) => {
                for item in items {
                    b.values().append_value(item);
                }
                b.append(true);
            }
            (Builder::TextList(b), Value::Null) => b.append(false),
            (_, value) => anyhow::bail!("internal error: {value:?} does not fit its column"),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::TextList(b) => Arc::new(b.finish()),
        }
    }
}

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text => DataType::Utf8,
        Kind::Int => DataType::Int64,
        Kind::Bool => DataType::Boolean,
        Kind::Time => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        Kind::Date => DataType::Date32,
        Kind::TextList => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
    }
}

pub(crate) struct ParquetSink {
    writer: ArrowWriter<File>,
    schema: SchemaRef,
    builders: Vec<Builder>,
    buffered: usize,
}

impl ParquetSink {
    pub(crate) fn new(file: File, columns: &[Column]) -> anyhow::Result<ParquetSink> {
        let schema: SchemaRef = Arc::new(Schema::new(
            columns
                .iter()
                .map(|c| Field::new(c.name, data_type(c.kind), true))
                .collect::<Vec<_>>(),
        ));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        Ok(ParquetSink {
            writer: ArrowWriter::try_new(file, schema.clone(), Some(props))?,
            schema,
            builders: columns.iter().map(|c| Builder::new(c.kind)).collect(),
            buffered: 0,
        })
    }

    fn flush_batch(&mut self) -> anyhow::Result<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        self.writer.write(&batch)?;
        self.buffered = 0;
        Ok(())
    }
}

impl Sink for ParquetSink {
    fn write(&mut self, row: &[Value]) -> anyhow::Result<()> {
        for (builder, value) in self.builders.iter_mut().zip(row) {
            builder.append(value)?;
        }
        self.buffered += 1;
        if self.buffered == BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        self.flush_batch()?;
        self.writer.close()?;
        Ok(())
    }
}
