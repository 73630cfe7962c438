"""Gold: business tables built from Silver, one module per idea; `builders.gold_builders()` lists them all."""
