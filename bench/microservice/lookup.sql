\set id random(1, :n)
SELECT id, jsonb_build_object('id', id, 'text', text, 'created_at', created_at)::text FROM notes WHERE id = :id;
