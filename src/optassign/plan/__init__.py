"""A Result becomes a Plan (pandas tables with names and reasons), plan folders are read back,
and plans are exported (parquet, xlsx)."""
