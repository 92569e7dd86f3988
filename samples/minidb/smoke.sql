-- smoke.sql - a small minidb script of known results (tests/run/12-minidb-smoke.sh checks its
-- output and exact call counts): every statement kind, access path and join method, and two
-- errors. 17 statements, 3 generator batches (.gen orders 250: 100 + 100 + 50 rows).
CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, city TEXT, age INT);
CREATE TABLE products (id INT PRIMARY KEY, name TEXT, price REAL);
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, product_id INT, qty INT, day INT);
INSERT INTO customers VALUES (1, 'Ana', 'Lyon', 34), (2, 'Bruno', 'Porto', 51),
	(3, 'Chloe', 'Lyon', 27), (4, 'David', 'Ghent', 62), (5, 'Emma O''Brien', 'Porto', 45);
INSERT INTO products (id, name, price) VALUES (1, 'Lamp', 12.5), (2, 'Chair', 40), (3, 'Kettle', 22.25);
.gen orders 250
CREATE INDEX orders_day ON orders (day);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX customers_id ON customers (id);
.tables
.plans on
SELECT c.city, COUNT(*) AS n, SUM(o.qty * p.price) AS total
	FROM orders o JOIN customers c ON c.id = o.customer_id JOIN products p ON p.id = o.product_id
	GROUP BY c.city ORDER BY total DESC;
SELECT c.name, COUNT(*) AS n FROM customers c JOIN orders o ON o.customer_id = c.id
	WHERE c.age < 50 GROUP BY c.name ORDER BY c.name;
SELECT c.name, o.day FROM customers c JOIN orders o ON o.customer_id = c.id
	WHERE c.id BETWEEN 2 AND 3 AND o.day < 20 ORDER BY o.day, c.name;
SELECT DISTINCT UPPER(city) AS city FROM customers WHERE name LIKE '%a%' ORDER BY city;
UPDATE orders SET day = day + 1 WHERE day >= 360;
DELETE FROM orders WHERE qty = 10;
SELECT COUNT(*) AS n, MIN(day), MAX(day), AVG(qty) FROM orders WHERE day > 300;
INSERT INTO customers VALUES (3, 'Again', 'Lyon', 1);
SELECT name FROM customers WHERE nosuch = 1;
.tables
