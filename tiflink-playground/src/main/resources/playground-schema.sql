-- The playground's TiDB tables (TiDB syntax, applied to the minicluster at start).
CREATE DATABASE shop;
USE shop;

CREATE TABLE customers (
  id INT PRIMARY KEY,
  name VARCHAR(32) NOT NULL,
  city VARCHAR(32)
);

CREATE TABLE orders (
  order_id BIGINT PRIMARY KEY,
  customer_id INT NOT NULL,
  item VARCHAR(32) NOT NULL,
  qty INT NOT NULL,
  price DECIMAL(10, 2) NOT NULL
);
