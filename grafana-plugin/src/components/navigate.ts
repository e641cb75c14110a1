import { locationService } from '@grafana/runtime';

/**
 * Follow a row link: same-app paths go through Grafana's locationService (no full page reload, keeps the
 * app's sub-path handling); absolute URLs and "new tab" go through the browser.
 */
export function openLink(url: string, newTab: boolean): void {
  if (newTab) {
    window.open(url, '_blank', 'noopener,noreferrer');
  } else if (url.startsWith('/')) {
    locationService.push(url);
  } else {
    window.location.assign(url);
  }
}
