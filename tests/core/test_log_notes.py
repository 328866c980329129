"""Numbers in the cycle's notes are rounded to the pair's increments and labelled with their currency."""

from decimal import Decimal

from dca.params import AssetConfig, ExchangeRules
from dca.strategy import coin_text, money_text


def test_amounts_are_rounded_to_the_pairs_increments_and_labelled():
    config = AssetConfig(1, "BTC/USD", "dca-test1", rules=ExchangeRules(min_trade_increment=Decimal("0.000000001"),
                                                                        price_increment=Decimal("0.01")))
    assert money_text(config, Decimal("111190.5477122584")) == "111190.55 USD"
    assert coin_text(config, Decimal("0.0000899141234")) == "0.000089914 BTC"
    assert money_text(config, None) == "-"
