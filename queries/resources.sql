-- name: ResourceList :many
SELECT r.*, count(s.id) AS slots, coalesce(sum(s.capacity), 0)::bigint AS capacity,
       coalesce(sum(s.reserved), 0)::bigint AS reserved
FROM resources r LEFT JOIN slots s ON s.resource_id = r.id AND s.starts_at >= now()
GROUP BY r.id
ORDER BY r.name;

-- name: ResourceInsert :one
INSERT INTO resources (name, kind) VALUES ($1, $2) RETURNING *;

-- ResourceNames lists every resource by name: the list's resource filter, which needs
-- nothing of their slots.
-- name: ResourceNames :many
SELECT id, name FROM resources ORDER BY name;
