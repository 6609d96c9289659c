-- name: SignInTrustedCheck :one
-- Whether the email signed in successfully from the address recently.
SELECT EXISTS (
    SELECT 1 FROM sign_in_trusted
    WHERE email = @email AND ip = @ip AND last_success_at > now() - make_interval(secs => @within_secs::float8)
);

-- name: SignInTrustedRecord :exec
INSERT INTO sign_in_trusted (email, ip) VALUES (@email, @ip)
ON CONFLICT (email, ip) DO UPDATE SET last_success_at = now();
