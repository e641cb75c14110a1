// docker-compose.yml, the Dockerfile and the Grafana provisioning files, checked without Docker or Grafana:
// YAML parses, mounted paths exist (or are built by `npm run build`), service names match the scrape targets and
// data source URLs, ports agree, images are pinned, the plugin is mounted and allowed. Broken copies must fail.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  PROVISIONING_DIR,
  REPO,
  buildOutputs,
  checkDockerfile,
  checkStack,
  commandArgs,
  listenPort,
  loadStack,
  mountsOf,
  nonEmpty,
  parseDockerfile,
  pluginId,
  provisionedDatasources,
  readYaml,
  yamlFilesUnder,
  type StackFiles,
} from './lib.js';

const read = (p: string) => readFileSync(join(REPO, p), 'utf8');
const clone = <T>(x: T): T => structuredClone(x);

describe('files parse', () => {
  it('docker-compose.yml, .env.example and every provisioning YAML', () => {
    expect(() => parseYaml(read('docker-compose.yml'))).not.toThrow();
    const files = yamlFilesUnder(PROVISIONING_DIR);
    expect(files.map((f) => f.slice(PROVISIONING_DIR.length + 1))).toEqual(['dashboards/numrep.yaml', 'datasources/numrep.yaml', 'plugins/numrep.yaml']);
    for (const f of files) expect(readYaml(f).apiVersion, f).toBe(1);
    expect(Object.keys(loadStack().env)).toEqual(expect.arrayContaining(['NUMREP_SERVE_FLAGS', 'GRAFANA_ADMIN_PASSWORD', 'NUMREP_BIND_ADDRESS']));
  });

  it('data sources have stable uids: numrep-prometheus (default) and numrep-alertmanager', () => {
    const ds = provisionedDatasources();
    expect(ds.map((d) => [d.uid, d.type])).toEqual([
      ['numrep-prometheus', 'prometheus'],
      ['numrep-alertmanager', 'alertmanager'],
    ]);
    expect((ds[0] as any).isDefault).toBe(true);
    expect((ds[0] as any).jsonData.alertmanagerUid).toBe('numrep-alertmanager');
  });
});

describe('docker-compose.yml', () => {
  it('agrees with alerting/prometheus.yml, the provisioning files, the Dockerfile and .env.example (every problem listed)', () => {
    expect(checkStack(loadStack())).toEqual([]);
  });

  it('service names and ports: exporter:9847, prometheus:9090, alertmanager:9093, grafana:3000', () => {
    const { compose } = loadStack();
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'exporter', 'grafana', 'prometheus']);
    expect(Object.fromEntries(Object.entries(compose.services).map(([n, s]) => [n, listenPort(n, s)]))).toEqual({
      exporter: 9847,
      prometheus: 9090,
      alertmanager: 9093,
      grafana: 3000,
    });
    // Published on loopback unless .env says otherwise.
    for (const s of Object.values(compose.services)) for (const p of s.ports ?? []) expect(String(p)).toMatch(/^\$\{NUMREP_BIND_ADDRESS:-127\.0\.0\.1\}:/);
  });

  it('the exporter listens on 0.0.0.0:9847, keeps its database and inbox on volumes, and is health-checked', () => {
    const ex = loadStack().compose.services.exporter;
    const args = commandArgs(ex.command);
    expect(args.slice(0, 3)).toEqual(['serve', '--listen', '0.0.0.0:9847']);
    expect(mountsOf(ex).map((m) => m.target).sort()).toEqual(['/var/lib/numrep', '/var/spool/numrep/inbox']);
    expect(JSON.stringify(ex.healthcheck)).toMatch(/127\.0\.0\.1:9847\/healthz/);
  });

  it('grafana loads the built plugin, unsigned, by its id', () => {
    const gf = loadStack().compose.services.grafana;
    const env = gf.environment as Record<string, string>;
    expect(env.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS).toBe(pluginId());
    expect(mountsOf(gf)).toContainEqual({ source: './grafana-plugin/dist', target: `/var/lib/grafana/plugins/${pluginId()}`, bind: true });
    // grafana-plugin/dist is not committed: npm run build makes it.
    expect(buildOutputs().get('grafana-plugin/dist')).toBe('@numrep/grafana-plugin build');
    const dist = join(REPO, 'grafana-plugin', 'dist');
    if (nonEmpty(dist)) {
      // When it is built, it is what Grafana expects in a plugin folder.
      expect(JSON.parse(readFileSync(join(dist, 'plugin.json'), 'utf8')).id).toBe(pluginId());
      expect(existsSync(join(dist, 'module.js'))).toBe(true);
    }
  });

  it('images are pinned by version', () => {
    const { compose } = loadStack();
    for (const [n, s] of Object.entries(compose.services)) expect(s.image, n).toMatch(/:v?\d+\.\d+\.\d+$/);
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const ignore = read('.dockerignore');

  it('meets the brief (every problem listed)', () => {
    expect(checkDockerfile(text, ignore)).toEqual([]);
  });

  it('two stages on a pinned node:20 bookworm-slim; runtime as a non-root user; CMD listens on 0.0.0.0:9847', () => {
    const { stages } = parseDockerfile(text);
    expect(stages.map((s) => [s.from, s.name])).toEqual([
      [expect.stringMatching(/^node:20\.\d+\.\d+-bookworm-slim$/), 'build'],
      [expect.stringMatching(/^node:20\.\d+\.\d+-bookworm-slim$/), 'runtime'],
    ]);
    const runtime = stages[1].lines;
    expect(runtime.find((l) => l.startsWith('USER'))).toBe('USER numrep:numrep');
    expect(runtime.find((l) => l.startsWith('CMD'))).toContain('"--listen", "0.0.0.0:9847"');
  });

  it('.dockerignore keeps node_modules, dist, var, .git and .env out of the context', () => {
    const lines = ignore.split('\n').map((l) => l.trim());
    expect(lines).toContain('*');
    for (const p of ['node_modules', 'dist', 'var', '.git', '.env']) expect(lines.some((l) => l === `!${p}` || l.startsWith(`!${p}/`))).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------
describe('the checks fail on a broken reference', () => {
  const base = loadStack();
  const mutate = (f: (s: StackFiles) => void): string => {
    const s = clone(base);
    f(s);
    return checkStack(s).join('\n');
  };

  const cases: [string, (s: StackFiles) => void, RegExp][] = [
    ['exporter service renamed', (s) => {
      s.compose.services.numrep = s.compose.services.exporter;
      delete s.compose.services.exporter;
    }, /job numrep target exporter:9847: docker-compose.yml has no service "exporter"/],
    ['scrape target on the wrong port', (s) => (s.prometheus.scrape_configs[0].static_configs[0].targets = ['exporter:9100']), /exporter:9100: service exporter listens on 9847/],
    ['exporter listening elsewhere', (s) => (s.compose.services.exporter.command = 'serve --listen 0.0.0.0:9999 --inbox /var/spool/numrep/inbox --db /var/lib/numrep/numrep.db'), /service exporter listens on 9999/],
    ['exporter on loopback only', (s) => (s.compose.services.exporter.command = 'serve --listen 127.0.0.1:9847 --inbox /var/spool/numrep/inbox --db /var/lib/numrep/numrep.db'), /does not --listen 0\.0\.0\.0/],
    ['data source URL to a missing service', (s) => (s.datasources[0].url = 'http://prom:9090'), /numrep-prometheus url http:\/\/prom:9090: docker-compose.yml has no service "prom"/],
    ['data source URL on the wrong port', (s) => (s.datasources[1].url = 'http://alertmanager:9094'), /alertmanager listens on 9093/],
    ['alertmanager target renamed', (s) => (s.prometheus.alerting.alertmanagers[0].static_configs[0].targets = ['am:9093']), /alertmanager am:9093: docker-compose.yml has no service "am"/],
    ['mounted path missing', (s) => (s.compose.services.prometheus.volumes![1] = './alerting/rulez:/etc/prometheus/rules:ro'), /mounts \.\/alerting\/rulez, which is neither in the repository nor built/],
    ['rules not mounted where rule_files point', (s) => (s.compose.services.prometheus.volumes![1] = './alerting/rules:/etc/rules:ro'), /rule_files rules\/\*\.yml \(\/etc\/prometheus\/rules\/\*\.yml\) is not mounted/],
    ['plugin not allowed unsigned', (s) => ((s.compose.services.grafana.environment as any).GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS = 'numrep-panel'), /does not allow numrep-reputation-panel/],
    ['plugin built output not mounted', (s) => (s.compose.services.grafana.volumes = s.compose.services.grafana.volumes!.filter((v) => !String(v).includes('grafana-plugin'))), /does not mount grafana-plugin\/dist/],
    ['provisioning not mounted', (s) => (s.compose.services.grafana.volumes = s.compose.services.grafana.volumes!.filter((v) => !String(v).includes('provisioning'))), /does not mount dashboards\/provisioning/],
    ['dashboard provider path not mounted', (s) => (s.dashboardProviders[0].options!.path = '/var/lib/grafana/dashboards/other'), /provider numrep reads \/var\/lib\/grafana\/dashboards\/other, which grafana does not mount from the repository/],
    ['image unpinned', (s) => (s.compose.services.grafana.image = 'grafana/grafana:latest'), /grafana image grafana\/grafana:latest is not pinned/],
    ['grafana older than the plugin needs', (s) => (s.compose.services.grafana.image = 'grafana/grafana:11.6.0'), /older than the plugin's grafanaDependency/],
    ['published port not the listening one', (s) => (s.compose.services.grafana.ports = ['3000:3001']), /grafana publishes container port 3001 but listens on 3000/],
    ['undeclared named volume', (s) => delete s.compose.volumes!['grafana-data'], /uses volume grafana-data, not declared/],
    ['variable not in .env.example', (s) => delete s.env.PROMETHEUS_RETENTION, /\$\{PROMETHEUS_RETENTION\} is not in \.env\.example/],
    ['database not on a volume', (s) => (s.compose.services.exporter.command = 'serve --listen 0.0.0.0:9847 --inbox /var/spool/numrep/inbox --db /tmp/numrep.db'), /--db \/tmp\/numrep\.db is not on a volume/],
  ];
  it.each(cases)('%s', (_n, f, expected) => {
    expect(mutate(f)).toMatch(expected);
  });

  const dockerCases: [string, (t: string) => string, RegExp][] = [
    ['unpinned base image', (t) => t.replace(/node:20\.\d+\.\d+-bookworm-slim/, 'node:20-slim'), /FROM node:20-slim is not a pinned/],
    ['runs as root', (t) => t.replace(/^USER .*$/m, ''), /runs as root/],
    ['listens on loopback', (t) => t.replace('"0.0.0.0:9847"', '"127.0.0.1:9847"'), /CMD does not listen on 0\.0\.0\.0/],
    ['health check elsewhere', (t) => t.replaceAll('/healthz', '/metrics'), /HEALTHCHECK does not ask \/healthz/],
    ['prebuilt better-sqlite3', (t) => t.replace('npm_config_build_from_source=true', 'npm_config_build_from_source=false'), /does not build native modules/],
    ['COPY of a missing path', (t) => t.replace('COPY exporter/src exporter/src', 'COPY exporter/lib exporter/lib'), /COPY exporter\/lib: not in the repository/],
  ];
  it.each(dockerCases)('Dockerfile: %s', (_n, f, expected) => {
    expect(checkDockerfile(f(read('Dockerfile')), read('.dockerignore')).join('\n')).toMatch(expected);
  });

  it('Dockerfile: COPY of a path .dockerignore leaves out', () => {
    expect(checkDockerfile(read('Dockerfile'), read('.dockerignore').replace('!exporter/src\n', '')).join('\n')).toMatch(/COPY exporter\/src is excluded by \.dockerignore/);
  });
});

describe('docs/operations.md', () => {
  const doc = read('docs/operations.md');

  it('has the sections the README links to', () => {
    for (const h of ['## Run the whole stack', '## Running without Docker', '## Adding the rules to an existing Prometheus', '## Embedding the panel and the dashboards in an existing Grafana', '## Upgrading', '## Backup and restore', '## HTTP limits and browser protection']) {
      expect(doc).toContain(h);
    }
  });

  it('names the images, ports, uids and paths docker-compose.yml and the provisioning really use', () => {
    const { compose } = loadStack();
    for (const s of Object.values(compose.services)) if (!s.build) expect(doc).toContain(s.image);
    for (const port of ['9847', '9090', '9093', '3000']) expect(doc).toContain(port);
    for (const ds of provisionedDatasources()) expect(doc).toContain(ds.uid);
    expect(doc).toContain(`GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=${pluginId()}`);
    for (const m of mountsOf(compose.services.exporter)) expect(doc).toContain(m.target);
  });

  it('uses the backup command as the CLI defines it', () => {
    const main = read('exporter/src/cli/main.ts');
    expect(main).toMatch(/command\('backup'\)/);
    expect(main).toContain("'--db <file>'");
    expect(doc).toMatch(/numrep backup \S+ --db \/var\/lib\/numrep\/numrep\.db/);
  });
});
