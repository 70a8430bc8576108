-- Gold layer, version 9: the policy backtest replays the history up to the cycle's backtest day
-- (NOVA_BACKTEST_EVERY_DAYS) and the cycles between keep that replay. cycle_date is the cycle that
-- loaded the row; replayed_through, the last day of the replay (null on rows loaded before).
ALTER TABLE analytics.policy_backtest ADD COLUMN replayed_through date;
