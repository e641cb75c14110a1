import { PanelPlugin } from '@grafana/data';
import { ReputationPanel } from './components/ReputationPanel';
import { buildOptions, migrationHandler } from './options';
import { PanelOptions } from './types';

export const plugin = new PanelPlugin<PanelOptions>(ReputationPanel)
  .setPanelOptions(buildOptions)
  .setMigrationHandler(migrationHandler)
  .setNoPadding();
