-- The RFM table an analyst would write in DuckDB, with Koi's definitions:
-- purchases are rows with amount > 0; frequency = distinct purchase days;
-- monetary = net amount (refunds included); recency = as-of − last purchase;
-- scores by Koi's rank rule 1 + floor(5 · (rank − 1) / N).
-- Parameters (set by bench.py): {csv}, {as_of}, {out}.
COPY (
  WITH t AS (
    SELECT customer_id, CAST("date" AS DATE) AS d, amount
    FROM read_csv('{csv}', header = true,
      columns = {{'customer_id': 'VARCHAR', 'date': 'TIMESTAMP', 'item': 'VARCHAR',
                 'amount': 'DOUBLE', 'list_price': 'DOUBLE', 'promo': 'INTEGER',
                 'channel': 'VARCHAR', 'store': 'VARCHAR'}})
  ),
  c AS (
    SELECT customer_id,
      min(d) FILTER (WHERE amount > 0) AS first_purchase,
      max(d) FILTER (WHERE amount > 0) AS last_purchase,
      count(DISTINCT d) FILTER (WHERE amount > 0) AS frequency,
      sum(amount) AS monetary
    FROM t GROUP BY customer_id
    HAVING count(*) FILTER (WHERE amount > 0) > 0
  ),
  s AS (SELECT *, DATE '{as_of}' - last_purchase AS recency_days FROM c)
  SELECT customer_id, first_purchase, last_purchase, recency_days, frequency,
    round(monetary, 2) AS monetary,
    1 + floor(5 * (rank() OVER (ORDER BY recency_days DESC) - 1) / count(*) OVER ()) AS r_score,
    1 + floor(5 * (rank() OVER (ORDER BY frequency) - 1) / count(*) OVER ()) AS f_score,
    1 + floor(5 * (rank() OVER (ORDER BY monetary) - 1) / count(*) OVER ()) AS m_score
  FROM s
) TO '{out}' (FORMAT JSON);
