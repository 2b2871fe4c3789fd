package faulttest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
)

func TestMain(m *testing.M) { faulttest.Main(m) }

// ports of the sample's services.
var ports = map[string]int{"web": 8080, "api": 9090}

// slowBuild makes the next build of service take at least d: a RUN step
// no cache has seen.
func slowBuild(s *faulttest.Slipway, service string, d time.Duration) {
	s.Write("services/"+service+"/Dockerfile", fmt.Sprintf(`ARG BASE=localhost:5000/mirror/busybox:stable
FROM ${BASE}
RUN mkdir -p /www && echo ok > /www/healthz
COPY start.sh /start.sh
RUN echo %d && sleep %d
CMD ["sh", "/start.sh"]
`, time.Now().UnixNano(), int(d.Seconds())))
}

// slowStart makes service answer its health check only d after it starts.
func slowStart(s *faulttest.Slipway, service string, d time.Duration) {
	s.Write("services/"+service+"/start.sh", fmt.Sprintf(`sleep %d
printf '%%s %%s\n' "$SLIPWAY_SERVICE" "$SLIPWAY_COMMIT" > /www/index.html
exec httpd -f -p %d -h /www
`, int(d.Seconds()), ports[service]))
}

// touch changes service's content so its next build is a new image.
func touch(s *faulttest.Slipway, service string) {
	s.Write("services/"+service+"/version.txt", fmt.Sprintln(time.Now().UnixNano()))
}
