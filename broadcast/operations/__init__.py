"""Operations pages: supervisors schedule and watch, operators watch their area, station operators run their
station, coverage as pictures. Same layout, login and conventions as the newsroom (broadcast.newsroom)."""
