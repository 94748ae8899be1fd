"""Back office: antifraud (rules, blacklist, screening, held orders, backtests), tickets, operator bonuses."""
