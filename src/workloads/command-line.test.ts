import { describe, expect, it } from 'vitest';
import { readCommandLine } from './command-line.ts';
import { GRAMMARS } from './servers.ts';

const models = (args: string[], g = GRAMMARS.VLLM) =>
  readCommandLine(g, args)
    .candidates.filter((c) => c.kind === 'model')
    .map((c) => c.value);

describe('reading a server command line as the server would, conservatively', () => {
  it('takes every value of a repeated flag and both forms of a flag', () => {
    expect(models(['--model', 'a', '--model=b'])).toEqual(['a', 'b']);
  });

  it('reads an abbreviation as every flag it could stand for (argparse)', () => {
    expect(models(['--mod', 'x'])).toEqual(['x']);
    expect(models(['--tok', 't', '--model', 'm'])).toEqual(['t', 'm']);
    expect(readCommandLine(GRAMMARS.TGI, ['--mod', 'x']).unknownFlags).toEqual(['--mod']); // clap has none
  });

  it('reads vLLM flags in underscore form, as FlexibleArgumentParser does', () => {
    expect(models(['/m', '--max_model_len', '4096'])).toEqual(['/m']);
    expect(models(['--tokenizer_mode', 'auto', '--speculative_model', 'org/draft'])).toEqual(['org/draft']);
  });

  it('a keyword value of a flag loads nothing; a path is a model input (vLLM --generation-config)', () => {
    expect(models(['/m', '--generation-config', 'vllm'])).toEqual(['/m']);
    expect(models(['/m', '--generation-config', 'auto'])).toEqual(['/m']);
    expect(models(['/m', '--generation-config', '/cfg/gen'])).toEqual(['/m', '/cfg/gen']);
  });

  it('adapter JSON: labels load nothing, a key modelgate does not know is unreadable', () => {
    const r = readCommandLine(GRAMMARS.VLLM, [
      '--lora-modules',
      '{"name":"sql","path":"/a","base_model_name":"org/base"}',
    ]);
    expect(r.candidates.map((c) => c.value)).toEqual(['/a']);
    expect(r.unreadable).toEqual([]);
    const odd = readCommandLine(GRAMMARS.VLLM, ['--lora-modules', '{"name":"x","path":"/a","loader":"y"}']);
    expect(odd.unreadable[0]?.reason).toContain('"loader"');
  });

  it('TorchServe --models are read in the --model-store; "all" is the store itself', () => {
    const ts = (args: string[]) => models(args, GRAMMARS.TORCHSERVE);
    expect(ts(['--model-store', '/models/m', '--models', 'd=densenet.mar', 'r.mar'])).toEqual([
      '/models/m',
      '/models/m/densenet.mar',
      '/models/m/r.mar',
    ]);
    expect(ts(['--model-store', '/models/m', '--models', 'all'])).toEqual(['/models/m']);
    expect(ts(['--models', 'd=https://example.org/d.mar'])).toEqual(['https://example.org/d.mar']);
    expect(ts(['--models', 'd.mar'])).toEqual(['d.mar']); // no store: relative, refused downstream
  });

  it('takes the token after an unknown flag as a possible model while the positional model is open', () => {
    expect(models(['--new-flag', 'x', 'org/m'])).toEqual(['x', 'org/m']);
    expect(models(['org/m', '--new-flag', '8'])).toEqual(['org/m']);
  });

  it('reads nargs+ values until the next flag', () => {
    expect(models(['--model', '/m', '--lora-modules', 'a=/x', 'b={"path":"y"}', '--port', '1'])).toEqual([
      '/m',
      '/x',
      '{"path":"y"}',
    ]);
    expect(models(['--lora-modules', '{"name":"a","path":"org/adapter"}'])).toEqual(['org/adapter']);
  });

  it('refuses what it cannot read: config files, model-ish unknown flags, bad JSON, too many arguments', () => {
    expect(readCommandLine(GRAMMARS.VLLM, ['--config', 'c.yaml']).unreadable[0]?.reason).toContain(
      'reads options from the file',
    );
    expect(readCommandLine(GRAMMARS.VLLM, ['--weights-dir', '/x']).unreadable[0]?.reason).toContain(
      'not known to modelgate',
    );
    expect(readCommandLine(GRAMMARS.VLLM, ['--speculative-config', '{x']).unreadable[0]?.reason).toContain(
      'not JSON',
    );
    expect(
      readCommandLine(
        GRAMMARS.VLLM,
        Array.from({ length: 5000 }, () => '-q'),
      ).unreadable[0]?.reason,
    ).toContain('at most 4096');
  });

  it('downloaders: the last positional is the destination', () => {
    const r = readCommandLine(GRAMMARS.OBJECT_COPY, ['--recursive', 's3://b/m', '/mnt/m']);
    expect(r.candidates.map((c) => [c.value, c.kind])).toEqual([
      ['s3://b/m', 'source'],
      ['/mnt/m', 'destination'],
    ]);
  });

  it('runtime loading is reported with the value that enables it', () => {
    expect(readCommandLine(GRAMMARS.TRITON, ['--model-control-mode=explicit']).runtimeLoading).toEqual([
      { where: '--model-control-mode', value: 'explicit' },
    ]);
    expect(readCommandLine(GRAMMARS.TRITON, ['--model-control-mode', 'none']).runtimeLoading).toEqual([]);
  });
  it("a flag with built-in values refuses any other (a plugin's loader, a class path)", () => {
    const unread = (args: string[]) => readCommandLine(GRAMMARS.VLLM, ['/m', ...args]).unreadable;
    expect(unread(['--load-format', 'safetensors', '--distributed-executor-backend=mp'])).toEqual([]);
    expect(unread(['--load-format', 'modelexpress'])[0]?.reason).toContain('not one of');
    expect(unread(['--load', 'x'])).toHaveLength(1); // an abbreviation too
    expect(unread(['--distributed-executor-backend', 'mod.Executor'])).toHaveLength(1);
  });

  it('reads llama.cpp flags in underscore form, as common/arg.cpp does', () => {
    const llama = (args: string[]) => models(args, GRAMMARS.LLAMA_CPP);
    expect(llama(['--control_vector', '/w/v.gguf', '--hf_repo', 'org/r'])).toEqual(['/w/v.gguf', 'org/r']);
    expect(
      readCommandLine(GRAMMARS.LLAMA_CPP, ['--control-vector-layer-range', '1', '10']).unreadable,
    ).toEqual([]);
    expect(readCommandLine(GRAMMARS.LLAMA_CPP, ['--chat_template_file', '/cfg/t.jinja']).unreadable).toEqual(
      [],
    );
  });
});

describe('JSON options are read by key', () => {
  const read = (args: string[]) => readCommandLine(GRAMMARS.VLLM, ['/m', ...args]);
  const reasons = (args: string[]) => read(args).unreadable.map((u) => u.where);

  it('settings (numbers, booleans, registered names) load nothing', () => {
    for (const [flag, json] of [
      ['--kv-transfer-config', '{"kv_connector":"NixlConnector","kv_role":"kv_both"}'],
      ['--compilation-config', '{"cudagraph_mode":"FULL_DECODE_ONLY","cudagraph_capture_sizes":[1,2,4]}'],
      [
        '--hf-overrides',
        '{"architectures":["Qwen3ForSequenceClassification"],"rope_scaling":{"factor":4.0}}',
      ],
      ['-O', '3'],
    ] as const)
      expect(read([flag, json]), flag).toMatchObject({ unreadable: [], candidates: [{ value: '/m' }] });
  });

  it('models and their own revisions; a location-like string elsewhere is unreadable', () => {
    const r = read(['--speculative-config', '{"model":"org/draft","revision":"abc","method":"eagle3"}']);
    expect(r.candidates.map((c) => [c.value, c.revisions])).toEqual([
      ['/m', undefined],
      ['org/draft', ['abc']],
    ]);
    expect(models(['--default-mm-loras', '{"audio":"/w/a","image":"org/img"}'])).toEqual(['/w/a', 'org/img']);
    expect(reasons(['--hf-overrides', '{"text_config":{"_name_or_path":"evil/x"}}'])).toEqual([
      '--hf-overrides text_config._name_or_path',
    ]);
    expect(
      reasons(['--kv-transfer-config', '{"kv_connector_extra_config":{"url":"lm://h:1"}}']),
    ).toHaveLength(1);
  });

  it('code keys and dotted Python names are unreadable, at any depth', () => {
    expect(reasons(['--hf-overrides', '{"auto_map":{"AutoModel":"evil/x--m.M"}}'])).toEqual([
      '--hf-overrides auto_map',
    ]);
    expect(
      reasons(['--kv-transfer-config', '{"kv_connector":"X","kv_connector_module_path":"evil"}']),
    ).toEqual(['--kv-transfer-config kv_connector_module_path']);
    expect(reasons(['--compilation-config', '{"backend":"evil.mod.fn"}'])).toEqual([
      '--compilation-config backend',
    ]);
  });

  it("vLLM's dotted spelling sets one key (--hf-overrides.auto_map.AutoModel)", () => {
    expect(reasons(['--hf-overrides.auto_map.AutoModel', 'evil/x--m.M'])).toEqual([
      '--hf-overrides (--hf-overrides.auto_map.AutoModel) auto_map',
    ]);
    expect(models(['--speculative-config.model=org/draft'])).toEqual(['org/draft']);
    expect(reasons(['--compilation-config.cudagraph_capture_sizes', '[1,2]'])).toEqual([]);
  });

  it('refuses JSON it cannot walk: unparsable, or nested deeper than any option', () => {
    expect(reasons(['--speculative-config', '{x'])).toEqual(['--speculative-config']);
    expect(reasons(['--hf-overrides', '{"a": "/x"'])).toEqual(['--hf-overrides']);
    // The older key=value spelling of a settings option is a setting.
    expect(reasons(['--limit-mm-per-prompt', 'image=2,video=1'])).toEqual([]);
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    expect(read(['--hf-overrides', deep]).unreadable).toHaveLength(1);
  });
});
