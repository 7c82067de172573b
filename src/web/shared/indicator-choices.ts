import type { Indicator } from '../../metrics/indicator.js';
import { element } from './dom.js';

/** One checkbox per indicator (its registry name, symbol and title), the `checked` names ticked. */
export function renderIndicatorChoices(container: HTMLElement, indicators: readonly Indicator[], checked: readonly string[]): void {
  container.replaceChildren(
    ...indicators.map((indicator) =>
      element('label', {}, [
        element('input', { type: 'checkbox', name: 'indicator', value: indicator.name, ...(checked.includes(indicator.name) ? { checked: '' } : {}) }),
        ` ${indicator.name} `,
        element('span', { class: 'hint' }, [`${indicator.symbol}: ${indicator.title}`]),
      ]),
    ),
  );
}

/** The registry names ticked, in the order shown. */
export function chosenIndicators(container: HTMLElement): string[] {
  return [...container.querySelectorAll<HTMLInputElement>('input[type="checkbox"]:checked')].map((box) => box.value);
}

/** Names a URL asked for that the registry does not know, as a warning (undefined when all are known). */
export function unknownIndicatorsWarning(asked: readonly string[], indicators: readonly Indicator[]): string | undefined {
  const known = indicators.map((indicator) => indicator.name);
  const unknown = asked.filter((name) => !known.includes(name));
  return unknown.length > 0 ? `URL parameter indicators names unknown indicator(s) ${unknown.join(', ')}; the indicators are ${known.join(', ')}` : undefined;
}
