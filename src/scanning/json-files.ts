// JSON and Jinja text files a model directory holds that a loader turns into code paths: Keras model
// configs (config.json of a .keras archive, or loose: the module/class references are what
// keras.saving imports), tokenizer configs whose `chat_template` the server renders, and chat
// template files (chat_template.jinja). Read as Python's json.loads reads them (NaN, Infinity,
// duplicate keys: the last wins), since that is what Keras and transformers use.
import { chatTemplateFindings } from './chat-template.ts';
import { isObject, JsonError, parsePythonJson, type Json } from './json.ts';
import { kerasConfigFindings, looksLikeKerasConfig } from './keras.ts';
import type { Finding } from './types.ts';

export interface JsonScan {
  findings: Finding[];
  /** The document is a Keras model config. */
  keras: boolean;
}

function templates(json: Json): [string, string][] {
  if (!isObject(json)) return [];
  const t = json.chat_template;
  if (typeof t === 'string') return [['chat_template', t]];
  if (Array.isArray(t))
    return t.flatMap((x, i) =>
      isObject(x) && typeof x.template === 'string'
        ? [
            [`chat_template[${typeof x.name === 'string' ? JSON.stringify(x.name) : i}]`, x.template] as [
              string,
              string,
            ],
          ]
        : [],
    );
  return [];
}

/** Undefined when the text is neither JSON nor a Jinja template. */
export function scanJsonText(text: string): JsonScan | undefined {
  let json: Json;
  try {
    json = parsePythonJson(text);
  } catch (e) {
    if (!(e instanceof JsonError) && !(e instanceof RangeError)) throw e;
    if (/^\s*\{[{%#]/.test(text))
      return { findings: chatTemplateFindings(text, 'the template file'), keras: false };
    return undefined;
  }
  const findings: Finding[] = [];
  const keras = looksLikeKerasConfig(json);
  if (keras) findings.push(...kerasConfigFindings(json));
  for (const [key, t] of templates(json)) findings.push(...chatTemplateFindings(t, key));
  return { findings, keras };
}
