"""Reference data: regions (with aliases, time zone, customers served, weather station)."""
