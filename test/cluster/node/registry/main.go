// The local OCI registry of the real-node cluster: go-containerregistry's registry (pkg/registry), blobs
// on disk, plain HTTP, listening inside the run's network namespace. The kubelet's containerd pulls the
// pause, modelgate and model images from it by digest; tests push model images and their signature
// referrers to it.
//
// --referrers picks how the referrers API (OCI distribution-spec 1.1, GET /v2/<name>/referrers/<digest>)
// behaves, so a client can be tested against each kind of registry found in the wild:
//
//	spec               per the spec: each descriptor's artifactType is the manifest's artifactType, else its
//	                   config's mediaType; ?artifactType= filters and sets OCI-Filters-Applied; a pushed
//	                   manifest with a subject gets the OCI-Subject response header
//	config-media-type  go-containerregistry's own answer: artifactType is always the config's mediaType
//	                   (application/vnd.oci.empty.v1+json for an artifact with an empty config) and the
//	                   filter is ignored
//	none               no referrers API (404), like distribution/distribution: clients must fall back to
//	                   the referrers tag schema (sha256-<hex>)
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

// referrersPath splits /v2/<name>/referrers/<digest>.
func referrersPath(path string) (name, digest string, ok bool) {
	rest, found := strings.CutPrefix(path, "/v2/")
	if !found {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/referrers/")
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+len("/referrers/"):], true
}

// specReferrers rewrites go-containerregistry's referrers answer the way the spec asks: artifactType from
// each manifest's own artifactType field, and the artifactType filter applied.
func specReferrers(inner http.Handler, w http.ResponseWriter, r *http.Request, name string) {
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	var idx index
	if err := json.Unmarshal(rec.Body.Bytes(), &idx); err != nil {
		http.Error(w, "referrers index: "+err.Error(), http.StatusInternalServerError)
		return
	}
	want := r.URL.Query().Get("artifactType")
	kept := []descriptor{}
	for _, d := range idx.Manifests {
		get := httptest.NewRequest(http.MethodGet, "/v2/"+name+"/manifests/"+d.Digest, nil)
		get.Header.Set("Accept", d.MediaType)
		m := httptest.NewRecorder()
		inner.ServeHTTP(m, get)
		var body struct {
			ArtifactType string `json:"artifactType"`
		}
		if m.Code == http.StatusOK && json.Unmarshal(m.Body.Bytes(), &body) == nil && body.ArtifactType != "" {
			d.ArtifactType = body.ArtifactType
		}
		if want == "" || d.ArtifactType == want {
			kept = append(kept, d)
		}
	}
	idx.Manifests = kept
	out, _ := json.Marshal(idx)
	if want != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
	w.Header().Set("Content-Length", fmt.Sprint(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// putWithSubject stores a manifest and, when it has a subject, answers with the OCI-Subject header, which
// tells a client that the registry indexed it (so no referrers tag needs to be maintained).
func putWithSubject(inner http.Handler, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, "reading the manifest: "+err.Error(), http.StatusBadRequest)
		return
	}
	var m struct {
		Subject *descriptor `json:"subject"`
	}
	_ = json.Unmarshal(body, &m)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	if rec.Code == http.StatusCreated && m.Subject != nil && m.Subject.Digest != "" {
		w.Header().Set("OCI-Subject", m.Subject.Digest)
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func main() {
	address := flag.String("address", "127.0.0.1:5000", "host:port to listen on")
	disk := flag.String("disk", "", "directory for blobs (required)")
	referrers := flag.String("referrers", "spec", "referrers API: spec, config-media-type or none")
	flag.Parse()
	if *disk == "" {
		log.Fatal("--disk is required: the directory where blobs are stored")
	}
	if err := os.MkdirAll(*disk, 0o700); err != nil {
		log.Fatalf("creating %s: %v", *disk, err)
	}
	var inner http.Handler
	switch *referrers {
	case "spec", "config-media-type":
		inner = registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(*disk)), registry.WithReferrersSupport(true))
	case "none":
		inner = registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(*disk)))
	default:
		log.Fatalf("--referrers=%q: expected spec, config-media-type or none", *referrers)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, _, ok := referrersPath(r.URL.Path); ok && r.Method == http.MethodGet && *referrers == "spec" {
			specReferrers(inner, w, r, name)
			return
		}
		if r.Method == http.MethodPut && *referrers == "spec" && strings.Contains(r.URL.Path, "/manifests/") {
			putWithSubject(inner, w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatalf("listening on %s: %v", *address, err)
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		_ = server.Close()
	}()
	log.Printf("serving on %s (blobs in %s, referrers API: %s)", listener.Addr(), *disk, *referrers)
	if err := server.Serve(listener); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
