import { useEffect, useRef } from 'preact/hooks';
import type { SqlEditor } from '../sql-editor.ts';

/** Mounts the CodeMirror editor once its module has loaded; until then a plain textarea works. */
export function SqlBox(props: {
  value: string;
  schema: Record<string, string[]>;
  onChange: (text: string) => void;
  onRun: () => void;
  editorRef: { current: SqlEditor | undefined };
}) {
  const host = useRef<HTMLDivElement>(null);
  const latest = useRef(props);
  latest.current = props;
  useEffect(() => {
    let editor: SqlEditor | undefined;
    let cancelled = false;
    import('../sql-editor.ts').then(({ createSqlEditor }) => {
      if (cancelled || !host.current) return;
      editor = createSqlEditor({
        parent: host.current,
        doc: latest.current.value,
        schema: props.schema,
        label: 'SQL query',
        onChange: (text) => latest.current.onChange(text),
        onRun: () => latest.current.onRun(),
      });
      props.editorRef.current = editor;
    });
    return () => {
      cancelled = true;
      editor?.destroy();
      props.editorRef.current = undefined;
    };
  }, [JSON.stringify(props.schema)]);
  return <div ref={host} class="sql-box" />;
}
