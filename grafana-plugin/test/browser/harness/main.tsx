/**
 * Browser harness: stands in for Grafana around the panel.
 * - /harness.html mounts the panel from src/ (bundled here) inside ThemeContext with createTheme(), with frames
 *   passed through applyFieldOverrides, as Grafana's panel renderer does.
 * - /amd.html loads the built dist/module.js through a tiny AMD `define` that maps the externals to the copies
 *   bundled here, the way Grafana's plugin loader maps them to its own; then renders `plugin.panel` with the
 *   defaults read from the plugin's own options builder.
 * Not covered (no Grafana server here): the options pane UI, the query pipeline, Grafana's panel chrome.
 */
import '@fontsource/inter/400.css';
import '@fontsource/inter/500.css';
import '@fontsource/inter/600.css';
import React from 'react';
import * as ReactDOM from 'react-dom';
import { createRoot, Root } from 'react-dom/client';
import { flushSync } from 'react-dom';
import * as emotion from '@emotion/css';
import * as data from '@grafana/data';
import * as ui from '@grafana/ui';
import * as runtime from '@grafana/runtime';
import * as schema from '@grafana/schema';
import { createTheme, LoadingState, PanelOptionsEditorBuilder, PanelPlugin, PanelProps, ThemeContext } from '@grafana/data';
import { ReputationPanel } from '../../../src/components/ReputationPanel';
import { PanelOptions } from '../../../src/types';
import { initStandardEditors } from '../../fixtures/editors';
import { panelProps } from '../../fixtures/panelProps';
import { poolFrames } from '../../fixtures/prometheus';

const EXTERNALS: Record<string, unknown> = {
  react: React,
  'react-dom': ReactDOM,
  '@emotion/css': emotion,
  '@grafana/data': data,
  '@grafana/ui': ui,
  '@grafana/runtime': runtime,
  '@grafana/schema': schema,
};

type Mode = 'dark' | 'light';
type StateName = 'rows' | 'loading' | 'error' | 'empty' | 'no-numrep';

interface MountResult {
  count: number;
  framesMs: number;
  overridesMs: number;
  renderMs: number;
  source: 'src' | 'dist';
}

let root: Root | undefined;

function setPageTheme(mode: Mode) {
  const theme = createTheme({ colors: { mode } });
  document.body.style.background = theme.colors.background.canvas;
  document.body.style.color = theme.colors.text.primary;
  document.body.style.fontFamily = theme.typography.fontFamily;
  document.body.style.margin = '0';
  // Grafana's global styles set the root font size (rem base) from the theme: 14px.
  document.documentElement.style.fontSize = `${theme.typography.htmlFontSize ?? 14}px`;
  document.body.style.fontSize = theme.typography.body.fontSize;
  document.body.style.lineHeight = String(theme.typography.body.lineHeight);
  return theme;
}

/** A Grafana-like panel frame (title bar, border) so screenshots look like the panel on a dashboard. */
function Chrome({ theme, width, height, title, children }: { theme: data.GrafanaTheme2; width: number; height: number; title: string; children: React.ReactNode }) {
  return (
    <div
      style={{
        margin: 16,
        width,
        background: theme.colors.background.primary,
        border: `1px solid ${theme.colors.border.weak}`,
        borderRadius: theme.shape.radius.default,
        boxShadow: theme.shadows.z1,
      }}
    >
      <div style={{ height: 32, display: 'flex', alignItems: 'center', padding: '0 8px', fontWeight: 500, fontSize: 14 }}>{title}</div>
      <div style={{ height, overflow: 'hidden' }}>{children}</div>
    </div>
  );
}

async function nextPaint(): Promise<void> {
  await new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
}

async function mount(
  Panel: React.ComponentType<PanelProps<PanelOptions>>,
  o: { count: number; mode: Mode; options?: Partial<PanelOptions>; state?: StateName; width?: number; height?: number; source: 'src' | 'dist' }
): Promise<MountResult> {
  const theme = setPageTheme(o.mode);
  const width = o.width ?? 1320;
  const height = o.height ?? 560;
  let t = performance.now();
  const { frames } = poolFrames({ count: o.count, points: 24 });
  const framesMs = performance.now() - t;
  t = performance.now();
  let props = panelProps(o.state === 'no-numrep' ? [] : frames, { theme, width, height, options: o.options });
  const overridesMs = performance.now() - t;
  if (o.state === 'loading') {
    props = { ...props, data: { ...props.data, state: LoadingState.Loading, series: [] } };
  } else if (o.state === 'error') {
    props = { ...props, data: { ...props.data, state: LoadingState.Error, series: [], error: { message: 'Post "http://prometheus:9090/api/v1/query": context deadline exceeded' } } };
  } else if (o.state === 'empty') {
    props = { ...props, data: { ...props.data, series: [] } };
  } else if (o.state === 'no-numrep') {
    const other = data.toDataFrame({
      fields: [
        { name: 'Time', type: data.FieldType.time, values: [Date.now()] },
        { name: 'Value', type: data.FieldType.number, values: [1], labels: { __name__: 'up', job: 'node' } },
      ],
    });
    props = { ...props, data: { ...props.data, series: [other] } };
  }
  const el = document.getElementById('root')!;
  root?.unmount();
  root = createRoot(el);
  t = performance.now();
  flushSync(() =>
    root!.render(
      <ThemeContext.Provider value={theme}>
        <Chrome theme={theme} width={width} height={height} title="Number reputation — pool health">
          <Panel {...props} />
        </Chrome>
      </ThemeContext.Provider>
    )
  );
  await nextPaint();
  const renderMs = performance.now() - t;
  return { count: o.count, framesMs, overridesMs, renderMs, source: o.source };
}

/** What Grafana's options pane does to find defaults: run the plugin's builder and read each item's defaultValue. */
function defaultsOf(plugin: PanelPlugin<PanelOptions>): Record<string, unknown> {
  initStandardEditors();
  const builder = new PanelOptionsEditorBuilder<PanelOptions>();
  plugin.getPanelOptionsSupplier()(builder, { data: [] } as never);
  const out: Record<string, unknown> = {};
  for (const item of builder.getItems()) {
    const keys = item.path.split('.');
    let cur = out;
    for (const k of keys.slice(0, -1)) {
      cur = (cur[k] ??= {}) as Record<string, unknown>;
    }
    cur[keys[keys.length - 1]] = item.defaultValue;
  }
  return out;
}

async function loadAmd(url: string): Promise<{ plugin: PanelPlugin<PanelOptions>; deps: string[] }> {
  const w = window as unknown as { define?: unknown };
  let deps: string[] = [];
  let exported: { plugin: PanelPlugin<PanelOptions> } | undefined;
  const define = (names: string[], factory: (...mods: unknown[]) => unknown) => {
    deps = names;
    const mods = names.map((n) => {
      if (!(n in EXTERNALS)) {
        throw new Error(`dist/module.js asks for an external the host does not provide: ${n}`);
      }
      return EXTERNALS[n];
    });
    exported = factory(...mods) as typeof exported;
  };
  (define as unknown as { amd: object }).amd = {};
  w.define = define;
  await new Promise<void>((resolve, reject) => {
    const s = document.createElement('script');
    s.src = url;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.appendChild(s);
  });
  delete w.define;
  if (!exported?.plugin) {
    throw new Error('dist/module.js did not export `plugin`');
  }
  return { plugin: exported.plugin, deps };
}

const api = {
  async mountSource(o: { count: number; mode: Mode; options?: Partial<PanelOptions>; state?: StateName; width?: number; height?: number }) {
    return mount(ReputationPanel, { ...o, source: 'src' });
  },
  async mountDist(o: { count: number; mode: Mode; width?: number; height?: number }) {
    const { plugin, deps } = await loadAmd('/plugin/module.js');
    const isPanelPlugin = plugin instanceof PanelPlugin;
    const defaults = defaultsOf(plugin);
    const options = await plugin.onPanelMigration!({ id: 1, options: defaults, fieldConfig: { defaults: {}, overrides: [] } } as never);
    const result = await mount(plugin.panel as React.ComponentType<PanelProps<PanelOptions>>, { ...o, options: options as PanelOptions, source: 'dist' });
    return { ...result, deps, isPanelPlugin, defaults, migrated: options };
  },
  location() {
    return runtime.locationService.getLocation();
  },
};

(window as unknown as { numrep: typeof api }).numrep = api;
document.documentElement.dataset.ready = 'true';
