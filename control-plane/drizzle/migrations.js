import journal from './meta/_journal.json';
import m0000 from './0000_yellow_screwball.sql';
import m0001 from './0001_nice_romulus.sql';
import m0002 from './0002_claim_order.sql';
import m0003 from './0003_queue_position.sql';
import m0004 from './0004_giant_magus.sql';
import m0005 from './0005_run_patches.sql';
import m0006 from './0006_review_backlog.sql';
import m0007 from './0007_run_cost.sql';
import m0008 from './0008_fleet_history.sql';
import m0009 from './0009_lost_streak.sql';
import m0010 from './0010_backlog_sample_step.sql';
import m0011 from './0011_list_by_status.sql';
import m0012 from './0012_one_settings_table.sql';
import m0013 from './0013_executor_boot.sql';
import m0014 from './0014_lost_share.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002,
m0003,
m0004,
m0005,
m0006,
m0007,
m0008,
m0009,
m0010,
m0011,
m0012,
m0013,
m0014
    }
  }
  