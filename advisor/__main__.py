from advisor.cli import app

app()
