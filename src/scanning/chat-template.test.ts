import { describe, expect, it } from 'vitest';
import { chatTemplateFindings } from './chat-template.ts';
import { scanBuffer } from './index.ts';
import { buildGguf } from './testing.test-support.ts';

const judge = (t: string) =>
  chatTemplateFindings(t, 'tokenizer.chat_template').filter((f) => f.severity === 'dangerous');

const BENIGN: Record<string, string> = {
  chatml:
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  thinking:
    "{%- for message in messages %}{%- if message.role == 'assistant' %}{%- set content = message.content.split('</think>')[-1].lstrip('\\n') %}{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}",
  tools:
    '{%- if tools %}{%- for tool in tools %}{{- tool | tojson }}{%- for name, p in tool.parameters.properties.items() %}{{ name }}={{ tool.parameters.properties[name].type }}{%- endfor %}{%- endfor %}{%- endif %}{%- for message in messages %}{%- if message.tool_calls %}{%- for tool_call in message.tool_calls %}{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}{{- \'{"name": "\' + tool_call.name + \'", "arguments": \' + (tool_call.arguments | tojson) + \'}\' }}{%- endfor %}{%- endif %}{%- endfor %}',
  llama2:
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
  namespace:
    "{%- set ns = namespace(is_first=false, system='') -%}{%- for message in messages -%}{%- if message['role'] == 'system' -%}{%- set ns.system = ns.system + message['content'] -%}{%- endif -%}{%- endfor -%}{{ bos_token }}{{ ns.system }}{%- for message in messages | selectattr('role', 'equalto', 'user') -%}{{ message.content | trim }}{%- endfor -%}",
  'comment-mentions-exec':
    "{# never exec( or eval( user text; __class__ is off limits #}{% for m in messages %}{{ m['content'] }}{% endfor %}",
  'map-attribute':
    "{{ messages | map(attribute='content') | join('\\n') }}{{ messages | selectattr('role', 'eq', 'user') | list | length }}",
};

const MALICIOUS: Record<string, string> = {
  dunder: "{{ ''.__class__.__mro__[1].__subclasses__() }}",
  globals: "{{ lipsum.__globals__['os'].popen('id').read() }}",
  'attr-hex': "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
  'attr-unicode': "{{ lipsum|attr('\\u005f\\u005fglobals\\u005f\\u005f') }}",
  'attr-computed': '{{ lipsum|attr(messages[0].content) }}',
  concat: "{{ ''['__cla' + 'ss__'] }}",
  tilde: "{{ lipsum['__glob' ~ 'als__'] }}",
  'set-split': "{% set a = '__glo' %}{% set b = 'bals__' %}{{ lipsum[a ~ b] }}",
  format: "{% set u = '%c'|format(95) %}{{ lipsum|attr(u*2 ~ 'globals' ~ u*2) }}",
  join: "{{ lipsum|attr(['_','_','globals','_','_']|join) }}",
  'map-attr': "{{ [lipsum]|map(attribute='__globals__')|list }}",
  'map-attr-filter': "{{ [lipsum]|map('attr', '__globals__')|list }}",
  'str-format': "{{ '{0.__class__}'.format(messages) }}",
  reverse: "{{ lipsum|attr('__slabolg__'[::-1]) }}",
  replace: "{{ lipsum|attr('XXglobalsXX'|replace('X','_')) }}",
  'loop-constant': "{% for k in ['__globals__'] %}{{ lipsum[k] }}{% endfor %}",
  private: '{{ self._TemplateReference__context }}',
  'octal-unparsed': "{{ lipsum|attr('\\137\\137globals\\137\\137') }}",
  'method-join': "{{ lipsum|attr(''.join(['__glo', 'bals__'])) }}",
};

describe('chat templates judged on their Jinja syntax tree', () => {
  it.each(Object.entries(BENIGN))('%s is clean', (_name, t) => {
    expect(judge(t)).toEqual([]);
  });
  it.each(Object.entries(MALICIOUS))('%s is dangerous', (_name, t) => {
    expect(judge(t).length).toBeGreaterThan(0);
  });
  it('checks every chat template key of a GGUF file', async () => {
    const r = await scanBuffer(
      buildGguf({
        kv: {
          'tokenizer.chat_template': BENIGN.chatml ?? '',
          'tokenizer.chat_template.tool_use': MALICIOUS.tilde ?? '',
        },
      }),
      'm.gguf',
    );
    expect(r.verdict).toBe('dangerous');
    expect(r.findings[0]?.detail).toContain('tokenizer.chat_template.tool_use');
  });
  it('checks the chat_template of tokenizer_config.json and template files', async () => {
    const cfg = JSON.stringify({ chat_template: [{ name: 'default', template: MALICIOUS.join }] });
    expect((await scanBuffer(new TextEncoder().encode(cfg), 'tokenizer_config.json')).verdict).toBe(
      'dangerous',
    );
    expect(
      (await scanBuffer(new TextEncoder().encode(BENIGN.llama2 ?? ''), 'chat_template.jinja')).verdict,
    ).toBe('clean');
    expect(
      (await scanBuffer(new TextEncoder().encode(MALICIOUS.dunder ?? ''), 'chat_template.jinja')).verdict,
    ).toBe('dangerous');
  });
});
