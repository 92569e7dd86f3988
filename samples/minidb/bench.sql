-- bench.sql - minidb's benchmark workload: minidb bench.sql [SIZE] (rows grow with SIZE: SIZE 20
-- takes about 0.3 s of CPU plain at -O2; bench/accuracy.sh runs SIZE 3). Loading goes through
-- the SQL parser; the queries use every access path and join method, grouping, sorting, LIKE
-- and string functions.
CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, city TEXT, age INT, balance REAL);
CREATE TABLE products (id INT PRIMARY KEY, name TEXT, category TEXT, price REAL);
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, product_id INT, qty INT, day INT);
CREATE TABLE stock (product_id INT, warehouse TEXT, units INT);
CREATE INDEX customers_id ON customers (id);
CREATE INDEX orders_day ON orders (day);
CREATE INDEX orders_customer ON orders (customer_id);
.gen customers 400
.gen products 50
.gen orders 4000
.gen stock 200
.tables
.plans on

-- per city: one scan, hash grouping
SELECT city, COUNT(*) AS n, AVG(age) AS avg_age, SUM(balance) AS balance
	FROM customers GROUP BY city ORDER BY city;

-- best customers: primary key lookups for both joins, then a sort of every group
SELECT c.name, c.city, SUM(o.qty * p.price) AS total
	FROM orders o JOIN customers c ON o.customer_id = c.id JOIN products p ON o.product_id = p.id
	GROUP BY c.name, c.city ORDER BY total DESC, c.name LIMIT 10;

-- a range of days through the index
SELECT p.category, COUNT(*) AS n, SUM(o.qty) AS units
	FROM orders o JOIN products p ON p.id = o.product_id
	WHERE o.day BETWEEN 100 AND 199 GROUP BY p.category ORDER BY n DESC, p.category;

-- young customers' orders: a merge join over two indexes
SELECT c.city, COUNT(*) AS n, SUM(o.qty) AS units
	FROM customers c JOIN orders o ON c.id = o.customer_id
	WHERE c.age < 30 GROUP BY c.city ORDER BY c.city;

-- the first customers' orders: a hash join (orders is the inner side)
SELECT c.city, COUNT(*) AS n, MAX(o.day) AS last_day
	FROM customers c JOIN orders o ON o.customer_id = c.id
	WHERE c.id BETWEEN 1 AND 500 GROUP BY c.city ORDER BY n DESC, c.city LIMIT 5;

-- stock per category: another hash join, products x stock
SELECT p.category, s.warehouse, SUM(s.units) AS units
	FROM products p JOIN stock s ON s.product_id = p.id
	GROUP BY p.category, s.warehouse HAVING SUM(s.units) > 1000
	ORDER BY units DESC, p.category, s.warehouse LIMIT 8;

-- richest customers: a full sort
SELECT id, name, balance FROM customers ORDER BY balance DESC, id LIMIT 10;

-- name patterns and computed keys
SELECT COUNT(*) AS n FROM customers WHERE name LIKE '%an%o%' OR name LIKE '%er%';
SELECT UPPER(SUBSTR(name, 1, 1)) || '-' || LOWER(city) AS k, COUNT(*) AS n
	FROM customers GROUP BY k ORDER BY n DESC, k LIMIT 5;
SELECT DISTINCT category FROM products ORDER BY category;

-- changes, then the reports again
UPDATE orders SET qty = qty + 1 WHERE day BETWEEN 0 AND 30;
UPDATE customers SET city = 'Lyon', balance = balance * 1.1 WHERE id % 50 = 0;
DELETE FROM orders WHERE qty > 9;
DELETE FROM customers WHERE age > 85 AND balance < 100;
SELECT city, COUNT(*) AS n, SUM(balance) AS balance FROM customers GROUP BY city ORDER BY city;
SELECT o.day, COUNT(*) AS n, SUM(o.qty * p.price) AS revenue
	FROM orders o JOIN products p ON o.product_id = p.id
	WHERE o.day >= 350 GROUP BY o.day ORDER BY o.day;
.tables
