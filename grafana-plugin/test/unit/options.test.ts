import { describe, expect, it } from 'vitest';
import { PanelOptionsEditorBuilder, PanelModel } from '@grafana/data';
import { buildOptions, carriersToShow, migrateOptions, migrationHandler } from '../../src/options';
import { defaultOptions, OPTIONS_VERSION, PanelOptions } from '../../src/types';
import { plugin } from '../../src/module';
import { initStandardEditors } from '../fixtures/editors';

initStandardEditors();

function setPath(o: Record<string, unknown>, path: string, v: unknown) {
  const keys = path.split('.');
  let cur = o;
  for (const k of keys.slice(0, -1)) {
    cur = (cur[k] ??= {}) as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = v;
}

describe('options editor', () => {
  const builder = buildOptions(new PanelOptionsEditorBuilder<PanelOptions>());
  const items = builder.getItems();

  it('groups every option into a category', () => {
    expect(items.every((i) => i.category && i.category.length > 0)).toBe(true);
    expect([...new Set(items.map((i) => i.category![0]))]).toEqual(['Columns', 'Score bands', 'Sorting', 'Appearance', 'Data link']);
  });

  it("has defaults that match defaultOptions (so Grafana's defaults and the panel's agree)", () => {
    const fromBuilder: Record<string, unknown> = { version: OPTIONS_VERSION };
    for (const i of items) {
      setPath(fromBuilder, i.path, i.defaultValue);
    }
    expect(fromBuilder).toEqual(defaultOptions);
  });

  it('is registered on the plugin with a migration handler', () => {
    expect(plugin.onPanelMigration).toBe(migrationHandler);
    expect(typeof plugin.getPanelOptionsSupplier()).toBe('function');
  });
});

describe('migration handler', () => {
  it('fills defaults for a new panel', () => {
    expect(migrateOptions(undefined)).toEqual(defaultOptions);
    expect(migrateOptions({})).toEqual(defaultOptions);
  });

  it('keeps current options as they are', () => {
    const current: PanelOptions = {
      ...defaultOptions,
      columns: ['status', 'score'],
      bands: { excellent: 75, critical: 40 },
      sort: { key: 'status', dir: 'desc' },
      density: 'compact',
      link: { template: '/d/x?n=${number}', newTab: true },
      carriers: 'att,tmobile',
      showToolbar: false,
    };
    expect(migrateOptions(current)).toEqual(current);
  });

  it('moves the pre-release flat shape (version 0) to the current one', () => {
    const old = {
      linkTemplate: '/d/old?var-number=${number}',
      linkNewTab: true,
      excellentFrom: '85',
      criticalBelow: 45,
      defaultSort: 'calls24h:desc',
      columns: 'status, score,unknown_column',
      carriers: ['att', 3, 'verizon'],
    };
    const panel = { id: 1, options: old, pluginVersion: '0.0.9', fieldConfig: { defaults: {}, overrides: [] } } as unknown as PanelModel<Partial<PanelOptions>>;
    expect(migrationHandler(panel)).toEqual({
      ...defaultOptions,
      columns: ['status', 'score'],
      bands: { excellent: 85, critical: 45 },
      sort: { key: 'calls24h', dir: 'desc' },
      link: { template: '/d/old?var-number=${number}', newTab: true },
      carriers: 'att,verizon',
    });
  });

  it('repairs invalid values instead of breaking the panel', () => {
    const o = migrateOptions({ bands: { excellent: 30, critical: 90 }, sort: { key: 'nope', dir: 'up' }, density: 'huge', link: 5 });
    expect(o.bands).toEqual({ excellent: 90, critical: 30 });
    expect(o.sort).toEqual(defaultOptions.sort);
    expect(o.density).toBe('normal');
    expect(o.link).toEqual(defaultOptions.link);
    expect(migrateOptions({ bands: { excellent: 400, critical: -5 } }).bands).toEqual({ excellent: 100, critical: 0 });
  });

  it('returns a fresh object each time (defaults are never shared)', () => {
    const a = migrateOptions({});
    a.columns.push('pool');
    expect(migrateOptions({}).columns).toEqual(defaultOptions.columns);
  });
});

describe('carriers to show', () => {
  it('uses the option order when set, else the carriers in the data', () => {
    expect(carriersToShow('', ['att', 'tmobile'])).toEqual(['att', 'tmobile']);
    expect(carriersToShow(' tmobile, att ,tmobile,', ['att', 'verizon'])).toEqual(['tmobile', 'att']);
  });
});
