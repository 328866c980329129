"""Ports: the interfaces (`typing.Protocol`s) between what the bot does and what it talks to.

The asset driver (app/driver) and the actors (actors/) see only these; the adapters (adapters/)
implement them and raise the broker's error kinds, and the composition root wires one to the other.
Values that cross a port live beside it (or in dca/ when the core uses them too).

* `broker.py` — `TradingBroker` (one asset's orders, position, account) and `Broker` (all the tree
  asks); the error kinds `OrderRejected` (its `kind` is a `dca.events.RejectionKind`), `BelowMinimum`,
  `InsufficientBalance`, `DuplicateClientOrderId`, `NotFound`, `BrokerUnavailable`, `BrokerTimeout`,
  `TradingStopped`; the values `Account`, `VenueFees` (`TradeUpdate` comes from `streams.py`);
  `ShadowVenue` (a dry run's exchange).
* `stores.py` — `CycleStore` (the books), `OrderMirror`, `AssetRepository`, `BarStore`, `RequestStore`, `BarSource`
  (`MetaStore` lives in `meta.py`).
* `streams.py` — `StreamFactory` (the venue's two WebSockets, keys inside), `TradeUpdate`. `meta.py` — `MetaStore`.
* `metrics.py` — `Metrics`, and the `Counter`/`Gauge`/`Histogram`/`Family` shapes it is made of.
* `clock.py` — `Clock` (the trading timeline), `Stopwatch` (real elapsed time).
* `notifier.py` — `Notifier` (trade notices). `risk.py` — `RiskGate` (what orders are vetted against).
* `asset_host.py` — what an asset driver needs from the actor hosting it: `AssetTimers`, `Quotes`,
  `ExchangeRulesSource`; and `OrderLookup`, why an order is read back.
"""
