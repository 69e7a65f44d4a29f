"""The year-end campaign: a workplace committee's evaluation sheets from generated to applied
(logic), its screen, Excel export and reminder letters (views), its JSON API (api), the home
page's "what needs you now" and the e-mail digest (home, cli)."""
