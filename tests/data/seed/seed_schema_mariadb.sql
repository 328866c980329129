-- The seed bot's schema, exactly as its README (shared/seeds/000_*.txt, section 5.2 and 4.5.2) creates it.
-- tests/takeover builds a MariaDB database from these statements, in this order.

CREATE TABLE dca_assets (
  id int(11) NOT NULL,
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
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp()
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

ALTER TABLE dca_assets
  ADD PRIMARY KEY (id),
  ADD UNIQUE KEY asset_symbol (asset_symbol);

ALTER TABLE dca_assets
  MODIFY id int(11) NOT NULL AUTO_INCREMENT;

CREATE TABLE dca_cycles (
  id int(11) NOT NULL,
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
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp()
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

ALTER TABLE dca_cycles
  ADD PRIMARY KEY (id),
  ADD KEY asset_id (asset_id);

ALTER TABLE dca_cycles
  MODIFY id int(11) NOT NULL AUTO_INCREMENT;

CREATE TABLE dca_orders (
  id varchar(36) NOT NULL,
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
  created_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
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
  legs longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(legs)),
  fetched_at timestamp NOT NULL DEFAULT current_timestamp(),
  updated_by_fetch_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp()
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;


ALTER TABLE dca_orders
  ADD PRIMARY KEY (id),
  ADD KEY idx_symbol (symbol),
  ADD KEY idx_status (status),
  ADD KEY idx_side (side),
  ADD KEY idx_created_at (created_at),
  ADD KEY idx_filled_at (filled_at),
  ADD KEY idx_client_order_id (client_order_id),
  ADD KEY idx_fetched_at (fetched_at);

CREATE TABLE historical_1min_bars (
    id INT AUTO_INCREMENT PRIMARY KEY,
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
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    
    UNIQUE KEY unique_asset_timestamp (asset_id, timestamp),
    INDEX idx_timestamp (timestamp),
    INDEX idx_asset_id (asset_id),
    INDEX idx_asset_timestamp_range (asset_id, timestamp),
    
    FOREIGN KEY (asset_id) REFERENCES dca_assets(id) ON DELETE CASCADE
) COMMENT = 'Historical 1-minute OHLCV bars for cryptocurrency backtesting';
