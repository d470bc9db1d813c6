-- The playground's TiDB tables (TiDB syntax, applied to the minicluster at start).
CREATE DATABASE shop;
USE shop;

CREATE TABLE customers (
  id INT PRIMARY KEY,
  name VARCHAR(32) NOT NULL,
  city VARCHAR(32) NOT NULL
);

CREATE TABLE orders (
  order_id BIGINT PRIMARY KEY,
  customer_id INT NOT NULL,
  item VARCHAR(32) NOT NULL,
  qty INT NOT NULL,
  price DECIMAL(10, 2) NOT NULL
);

-- The consistent view the Flink job keeps: revenue per city of orders JOIN customers.
CREATE TABLE revenue (
  city VARCHAR(32) PRIMARY KEY,
  total DECIMAL(12, 2) NOT NULL,
  orders BIGINT NOT NULL
);

-- Where the job records the TSO T the view is as of (see docs/materialized-views.md).
CREATE TABLE tiflink_progress (
  view_name VARCHAR(255) PRIMARY KEY,
  cut_ts BIGINT NOT NULL,
  checkpoint_id BIGINT NOT NULL
);
