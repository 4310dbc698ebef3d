// Package deploytest runs the files under deploy/ against the real
// programs they configure: deploy/nginx/ssehub.conf in the nginx on PATH
// (Debian 12 ships 1.22), in front of a real ssehub process. It has tests
// only.
package deploytest
