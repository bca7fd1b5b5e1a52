"""Runs sql/day_totals.sql over a partitioned Parquet export with DuckDB or Spark
(local mode, loopback only) and prints one JSON object per day.

usage: day_totals.py duckdb|spark SNAPSHOTS_DIR SERVERS_PARQUET SQL_FILE
"""
import json
import os
import sys


def duckdb_rows(snapshots, servers, sql):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # Views cannot take prepared parameters: the paths are quoted as SQL literals.
    quote = lambda path: "'" + path.replace("'", "''") + "'"
    pattern = quote(os.path.join(snapshots, "**", "*.parquet"))
    con.execute(f"CREATE VIEW snapshots AS SELECT * FROM read_parquet({pattern}, hive_partitioning = true)")
    con.execute(f"CREATE VIEW servers AS SELECT * FROM read_parquet({quote(servers)})")
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def spark_rows(snapshots, servers, sql):
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("fedicensus-day-totals")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.read.parquet(snapshots).createOrReplaceTempView("snapshots")
    spark.read.parquet(servers).createOrReplaceTempView("servers")
    rows = [r.asDict() for r in spark.sql(sql).collect()]
    spark.stop()
    return rows


def main():
    engine, snapshots, servers, sql_file = sys.argv[1:5]
    with open(sql_file) as f:
        sql = f.read()
    run = {"duckdb": duckdb_rows, "spark": spark_rows}[engine]
    for row in run(snapshots, servers, sql):
        row["date"] = str(row["date"])[:10]
        print(json.dumps({k: (v if k == "date" else int(v)) for k, v in row.items()}))


if __name__ == "__main__":
    main()
