"""Taxes of a taxable account: lots, realized gains and the wash-sale rule."""
