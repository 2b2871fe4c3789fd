# Serves the commit it was deployed from, the greeting of its environment,
# and /healthz.
printf '%s %s\n' "$SLIPWAY_SERVICE" "$SLIPWAY_COMMIT" > /www/index.html
printf '%s\n' "$GREETING" > /www/greeting
exec httpd -f -p 8080 -h /www
