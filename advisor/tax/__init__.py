"""Taxes of a taxable account: its lots, the tax of realized gains, the wash-sale rules."""
