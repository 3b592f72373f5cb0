// `${NAME}` inside any string of a config file is replaced by the environment variable NAME.
// A missing variable is an error that names where it was used.

export interface Interpolated {
  value: unknown;
  errors: string[];
}

export function interpolate(value: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const errors: string[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
        const found = env[name];
        if (found === undefined || found === '') {
          errors.push(`${path || '(root)'}: environment variable ${name} is not set`);
          return '';
        }
        return found;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, path ? `${path}.${k}` : k)]));
    return v;
  };
  return { value: walk(value, ''), errors };
}
