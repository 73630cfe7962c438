"""Sums and means of doubles that come out the same whatever order Spark adds them in.

Spark adds a group's doubles in the order its partitions and shuffle blocks arrive, which varies between runs, and
a double sum's last bits vary with it (seen: 5947.787481 against 5947.787481000001 MWh for one day of the same 24
hours). The same inputs must give the same Gold row, bit for bit: a killed run's re-run must export what a clean run
exports. Added as DECIMAL(38, 18), a sum or mean is exact, so the same in any order (and on any engine); it returns
to DOUBLE, the tables' type, rounded once.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# A double becomes its shortest decimal form (0.1 -> 0.1), which 18 decimals hold exactly for any value of 0.01 or
# more; 38 digits, the widest exact type Spark and Databricks add, leave 20 before the point: 1e20 is far above any
# sum Silver's value ranges allow (demand <= 1e6 MW an hour).
EXACT_TYPE = "decimal(38,18)"


def _column(column: Column | str) -> Column:
    return F.col(column) if isinstance(column, str) else column


def exact_sum(column: Column | str) -> Column:
    """SUM of a DOUBLE column, independent of the order rows are added in."""
    return F.sum(_column(column).cast(EXACT_TYPE)).cast("double")


def exact_avg(column: Column | str) -> Column:
    """AVG of a DOUBLE column (nulls ignored, as AVG does), independent of the order rows are added in."""
    return F.avg(_column(column).cast(EXACT_TYPE)).cast("double")
