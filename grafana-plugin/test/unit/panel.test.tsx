import React from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { createTheme, FieldType, LoadingState, PanelProps, ThemeContext, toDataFrame } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { ReputationPanel } from '../../src/components/ReputationPanel';
import { PanelOptions } from '../../src/types';
import { poolFrames } from '../fixtures/prometheus';
import { panelProps } from '../fixtures/panelProps';

function renderPanel(props: PanelProps<PanelOptions>, mode: 'dark' | 'light' = 'dark') {
  const theme = createTheme({ colors: { mode } });
  return render(
    <ThemeContext.Provider value={theme}>
      <ReputationPanel {...props} />
    </ThemeContext.Provider>
  );
}

const grid = () => screen.getByRole('grid');
const bodyRows = () => within(grid()).getAllByRole('row').slice(1);

describe('panel states', () => {
  it('shows loading while the first query runs', () => {
    renderPanel(panelProps([], { data: { state: LoadingState.Loading, series: [], timeRange: panelProps([]).timeRange } }));
    expect(screen.getByRole('status')).toHaveProperty('textContent', expect.stringContaining('Loading numbers'));
  });

  it('shows the query error', () => {
    const p = panelProps([]);
    renderPanel({ ...p, data: { ...p.data, state: LoadingState.Error, error: { message: 'bad_data: parse error at char 7' } } });
    expect(screen.getByRole('alert').textContent).toContain('parse error at char 7');
  });

  it('shows "No data" when the query returned nothing', () => {
    renderPanel(panelProps([]));
    expect(screen.getByRole('status').textContent).toContain('No data');
  });

  it('says no numrep metrics were found when the frames are of other metrics', () => {
    const other = [
      toDataFrame({
        fields: [
          { name: 'Time', type: FieldType.time, values: [1] },
          { name: 'Value', type: FieldType.number, values: [1], labels: { __name__: 'up', job: 'node' } },
        ],
      }),
    ];
    renderPanel(panelProps(other));
    expect(screen.getByRole('status').textContent).toContain('No numrep metrics found');
  });

  it('renders rows and names the missing metric families', () => {
    renderPanel(panelProps(poolFrames({ count: 8, omit: ['numrep_number_subscore'] }).frames), 'light');
    expect(bodyRows()).toHaveLength(8);
    expect(screen.getByText('1 metric missing').getAttribute('title')).toContain('numrep_number_subscore');
  });
});

describe('grid', () => {
  const { pool, frames } = poolFrames({ count: 300 });
  const props = panelProps(frames);

  it('virtualises: renders only the rows in view, but announces them all', () => {
    renderPanel(props);
    const n = bodyRows().length;
    expect(n).toBeGreaterThan(10);
    expect(n).toBeLessThan(40);
    expect(grid().getAttribute('aria-rowcount')).toBe('301');
  });

  it('sorts by score ascending by default and toggles on header click', () => {
    renderPanel(props);
    const scores = () => bodyRows().map((r) => Number(r.getAttribute('aria-label')!.match(/score (\d+)/)![1]));
    const min = Math.min(...pool.map((p) => p.score));
    const max = Math.max(...pool.map((p) => p.score));
    expect(scores()[0]).toBe(min);
    const btn = screen.getByRole('button', { name: 'Sort by Score' });
    expect(btn.parentElement!.getAttribute('aria-sort')).toBe('ascending');
    fireEvent.click(btn);
    expect(btn.parentElement!.getAttribute('aria-sort')).toBe('descending');
    expect(scores()[0]).toBe(max);
  });

  it('filters by status chips with counts, and by search', () => {
    renderPanel(props);
    const spam = pool.filter((p) => p.status === 'spam').length;
    const chip = screen.getByRole('button', { name: `Spam: ${spam} numbers` });
    fireEvent.click(chip);
    expect(chip.getAttribute('aria-pressed')).toBe('true');
    expect(grid().getAttribute('aria-rowcount')).toBe(String(spam + 1));
    expect(bodyRows().every((r) => r.getAttribute('aria-label')!.includes('Spam'))).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: /^All/ }));
    expect(grid().getAttribute('aria-rowcount')).toBe('301');

    const target = pool[17].number;
    fireEvent.change(screen.getByRole('textbox', { name: 'Search numbers' }), { target: { value: target.slice(-6) } });
    expect(bodyRows().map((r) => r.getAttribute('data-number'))).toEqual([target]);
    fireEvent.change(screen.getByRole('textbox', { name: 'Search numbers' }), { target: { value: 'no-such' } });
    expect(screen.getByText('No numbers match')).toBeTruthy();
  });

  describe('links and keyboard', () => {
    let push: ReturnType<typeof vi.spyOn>;
    beforeEach(() => {
      push = vi.spyOn(locationService, 'push').mockImplementation(() => {});
    });
    afterEach(() => push.mockRestore());

    it('opens the number-detail dashboard on row click', () => {
      renderPanel(props);
      const first = bodyRows()[0];
      fireEvent.click(first);
      expect(push).toHaveBeenCalledWith(
        `/d/numrep-number-detail/number-detail?var-number=${encodeURIComponent(first.getAttribute('data-number')!)}`
      );
    });

    it('moves the active row with the arrow keys and opens it with Enter', () => {
      renderPanel(panelProps(frames, { options: { link: { template: '/d/custom?n=${number}&from=${__from}', newTab: false } }, replaceVariables: (v: string) => v.replace('${__from}', '42') }));
      const g = grid();
      g.focus();
      fireEvent.keyDown(g, { key: 'ArrowDown' });
      fireEvent.keyDown(g, { key: 'ArrowDown' });
      const active = g.getAttribute('aria-activedescendant')!;
      const row = document.getElementById(active)!;
      expect(row.getAttribute('aria-selected')).toBe('true');
      expect(row.getAttribute('aria-rowindex')).toBe('4');
      fireEvent.keyDown(g, { key: 'Enter' });
      expect(push).toHaveBeenCalledWith(`/d/custom?n=${encodeURIComponent(row.getAttribute('data-number')!)}&from=42`);
      fireEvent.keyDown(g, { key: 'End' });
      expect(g.getAttribute('aria-activedescendant')).toMatch(/-row-299$/);
    });

    it('does not follow an unsafe link template', () => {
      renderPanel(panelProps(frames, { options: { link: { template: 'javascript:alert(${number})', newTab: false } } }));
      fireEvent.click(bodyRows()[0]);
      expect(push).not.toHaveBeenCalled();
    });
  });

  it('exports the rows shown as CSV', async () => {
    const blobs: Blob[] = [];
    const create = vi.fn((b: Blob) => {
      blobs.push(b);
      return 'blob:numrep';
    });
    URL.createObjectURL = create as unknown as typeof URL.createObjectURL;
    URL.revokeObjectURL = vi.fn();
    const clicks: string[] = [];
    const orig = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      clicks.push(this.download);
    };
    try {
      renderPanel(props);
      fireEvent.click(screen.getByRole('button', { name: /^Mixed:/ }));
      const mixed = pool.filter((p) => p.status === 'mixed').length;
      fireEvent.click(screen.getByRole('button', { name: `Export ${mixed} rows shown as CSV` }));
      expect(clicks[0]).toMatch(/^numrep-numbers-.*\.csv$/);
      const text = await new Promise<string>((resolve) => {
        const fr = new FileReader();
        fr.onload = () => resolve(String(fr.result));
        fr.readAsText(blobs[0]);
      });
      const lines = text.trim().split('\r\n');
      expect(lines).toHaveLength(mixed + 1);
      expect(lines[0]).toContain('carrier_att,carrier_tmobile,carrier_verizon');
      expect(lines.slice(1).every((l) => l.startsWith("'+1") && l.includes(',mixed,'))).toBe(true);
    } finally {
      HTMLAnchorElement.prototype.click = orig;
    }
  });

  it('follows the columns, carriers and density options', () => {
    renderPanel(panelProps(frames, { options: { columns: ['status', 'carriers'], carriers: 'tmobile', density: 'compact' } }));
    const headers = within(grid()).getAllByRole('columnheader').map((h) => h.textContent!.replace(/[▲▼⇅]/g, ''));
    expect(headers).toEqual(['Number', 'Status', 'tmobile']);
    expect(bodyRows()[0].style.height).toBe('28px');
  });

  it('hides the toolbar when asked', () => {
    renderPanel(panelProps(frames, { options: { showToolbar: false } }));
    expect(screen.queryByRole('textbox', { name: 'Search numbers' })).toBeNull();
  });

  it('shows the reason on hover of the recommendation', async () => {
    renderPanel(panelProps(poolFrames({ count: 3 }).frames, { options: { columns: ['recommendation'] } }));
    const cell = bodyRows()[0].querySelector('[data-action]')!;
    await act(async () => {
      fireEvent.mouseEnter(cell);
      fireEvent.pointerEnter(cell);
      await new Promise((r) => setTimeout(r, 300));
    });
    const tip = await screen.findByRole('tooltip');
    expect(tip.textContent).toBe(cell.querySelector('span:last-child')!.textContent);
  });
});
