-- The seed bot's schema (tests/data/seed/seed_schema_mariadb.sql) in SQLite's dialect: the same tables,
-- columns, declared types, defaults, keys and indexes. The seed bot itself only ran on MySQL/MariaDB;
-- this rendition lets the upgrade's SQLite path be tested on the same rows.

CREATE TABLE dca_assets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  asset_symbol varchar(25) NOT NULL,
  is_enabled tinyint(1) NOT NULL DEFAULT 1,
  base_order_amount decimal(20,10) NOT NULL DEFAULT 10.0000000000,
  safety_order_amount decimal(20,10) NOT NULL DEFAULT 20.0000000000,
  max_safety_orders int(11) NOT NULL DEFAULT 15,
  safety_order_deviation decimal(10,4) NOT NULL DEFAULT 0.9000,
  take_profit_percent decimal(10,4) NOT NULL DEFAULT 2.0000,
  ttp_enabled tinyint(1) NOT NULL DEFAULT 1,
  ttp_deviation_percent decimal(10,4) DEFAULT 1.0000,
  last_sell_price decimal(20,10) DEFAULT NULL,
  buy_order_price_deviation_percent decimal(10,4) NOT NULL DEFAULT 1.0000,
  cooldown_period int(11) NOT NULL DEFAULT 120,
  created_at timestamp NOT NULL DEFAULT current_timestamp,
  updated_at timestamp NOT NULL DEFAULT current_timestamp,
  CONSTRAINT asset_symbol UNIQUE (asset_symbol)
);

CREATE TABLE dca_cycles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  asset_id int(11) NOT NULL,
  status varchar(20) NOT NULL,
  quantity decimal(30,15) NOT NULL DEFAULT 0.000000000000000,
  average_purchase_price decimal(20,10) NOT NULL DEFAULT 0.0000000000,
  safety_orders int(11) NOT NULL DEFAULT 0,
  latest_order_id varchar(255) DEFAULT NULL,
  latest_order_created_at timestamp NULL DEFAULT NULL,
  last_order_fill_price decimal(20,10) DEFAULT NULL,
  highest_trailing_price decimal(20,10) DEFAULT NULL,
  completed_at timestamp NULL DEFAULT NULL,
  sell_price decimal(20,10) DEFAULT NULL,
  created_at timestamp NOT NULL DEFAULT current_timestamp,
  updated_at timestamp NOT NULL DEFAULT current_timestamp
);
CREATE INDEX asset_id ON dca_cycles (asset_id);

CREATE TABLE dca_orders (
  id varchar(36) NOT NULL PRIMARY KEY,
  client_order_id varchar(36) NOT NULL,
  asset_id varchar(36) DEFAULT NULL,
  symbol varchar(25) DEFAULT NULL,
  asset_class varchar(20) DEFAULT NULL,
  order_class varchar(20) NOT NULL,
  order_type varchar(20) DEFAULT NULL,
  type varchar(20) DEFAULT NULL,
  side varchar(10) DEFAULT NULL,
  position_intent varchar(20) DEFAULT NULL,
  qty decimal(30,15) DEFAULT NULL,
  notional decimal(20,10) DEFAULT NULL,
  filled_qty decimal(30,15) DEFAULT NULL,
  filled_avg_price decimal(20,10) DEFAULT NULL,
  limit_price decimal(20,10) DEFAULT NULL,
  stop_price decimal(20,10) DEFAULT NULL,
  trail_price decimal(20,10) DEFAULT NULL,
  trail_percent decimal(10,4) DEFAULT NULL,
  ratio_qty decimal(30,15) DEFAULT NULL,
  hwm decimal(20,10) DEFAULT NULL,
  status varchar(20) NOT NULL,
  time_in_force varchar(10) NOT NULL,
  extended_hours tinyint(1) NOT NULL DEFAULT 0,
  created_at timestamp NOT NULL DEFAULT current_timestamp,
  updated_at timestamp NOT NULL DEFAULT '0000-00-00 00:00:00',
  submitted_at timestamp NOT NULL DEFAULT '0000-00-00 00:00:00',
  filled_at timestamp NULL DEFAULT NULL,
  canceled_at timestamp NULL DEFAULT NULL,
  expired_at timestamp NULL DEFAULT NULL,
  expires_at timestamp NULL DEFAULT NULL,
  failed_at timestamp NULL DEFAULT NULL,
  replaced_at timestamp NULL DEFAULT NULL,
  replaced_by varchar(36) DEFAULT NULL,
  replaces varchar(36) DEFAULT NULL,
  legs longtext DEFAULT NULL CHECK (legs IS NULL OR json_valid(legs)),
  fetched_at timestamp NOT NULL DEFAULT current_timestamp,
  updated_by_fetch_at timestamp NOT NULL DEFAULT current_timestamp
);
CREATE INDEX idx_symbol ON dca_orders (symbol);
CREATE INDEX idx_status ON dca_orders (status);
CREATE INDEX idx_side ON dca_orders (side);
CREATE INDEX idx_created_at ON dca_orders (created_at);
CREATE INDEX idx_filled_at ON dca_orders (filled_at);
CREATE INDEX idx_client_order_id ON dca_orders (client_order_id);
CREATE INDEX idx_fetched_at ON dca_orders (fetched_at);

CREATE TABLE historical_1min_bars (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id INT NOT NULL,
    timestamp DATETIME NOT NULL,
    open DECIMAL(20, 10) NOT NULL,
    high DECIMAL(20, 10) NOT NULL,
    low DECIMAL(20, 10) NOT NULL,
    close DECIMAL(20, 10) NOT NULL,
    volume DECIMAL(30, 15) NOT NULL DEFAULT 0,
    trade_count DECIMAL(20, 10) DEFAULT NULL,
    vwap DECIMAL(20, 10) DEFAULT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT unique_asset_timestamp UNIQUE (asset_id, timestamp),
    FOREIGN KEY (asset_id) REFERENCES dca_assets(id) ON DELETE CASCADE
);
CREATE INDEX idx_timestamp ON historical_1min_bars (timestamp);
CREATE INDEX idx_asset_id ON historical_1min_bars (asset_id);
CREATE INDEX idx_asset_timestamp_range ON historical_1min_bars (asset_id, timestamp);
