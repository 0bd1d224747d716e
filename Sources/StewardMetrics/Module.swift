/// StewardMetrics: see ARCHITECTURE.md for what this module owns.
enum StewardMetricsModule {}
