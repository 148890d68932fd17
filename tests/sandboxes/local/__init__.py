"""The local operators' sandbox: GreenAlp (electricity, gas), CCIAG (district heat), Eau de Grenoble (water)."""
