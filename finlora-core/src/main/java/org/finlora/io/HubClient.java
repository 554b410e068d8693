package org.finlora.io;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.FinloraException;
import org.finlora.io.HfCache.RepoType;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Downloads files of Hub repos (models and datasets) into the HF cache layout, as huggingface_hub
 * does: HEAD {@code /{repo}/resolve/{rev}/{file}} for the commit (X-Repo-Commit) and the etag
 * (X-Linked-Etag for LFS files, else ETag), GET into {@code blobs/<etag>.incomplete} (resumed with a
 * Range request after a cut connection), sha256 check when the etag is an LFS sha256, move to
 * {@code blobs/<etag>}, link {@code snapshots/<commit>/<file>}. Without network, files already in
 * the cache are served from it.
 */
public final class HubClient {
    /** Progress of one file; total is -1 when the server did not say. Called from the downloading thread. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (file, done, total) -> {
        };

        void update(String file, long bytesDone, long bytesTotal);
    }

    /** A repo's commit and its file names (from /api/models/{repo} or /api/datasets/{repo}). */
    public record RepoInfo(String sha, List<String> files) {
    }

    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_ATTEMPTS = 5;
    private static final int MAX_REDIRECTS = 10;
    /** huggingface_hub's defaults for HF_HUB_DOWNLOAD_TIMEOUT and HF_HUB_ETAG_TIMEOUT, in seconds. */
    public static final double DEFAULT_TIMEOUT_SECONDS = 10;
    /** A repo listing is a few KB to a few MB; more is not a Hub answering. */
    static final int MAX_LISTING_BYTES = 32 << 20;
    static final int MAX_LISTING_FILES = 100_000;

    private final String endpoint;
    private final String token;
    private final HfCache cache;
    private final boolean offline;
    private final HttpClient http;
    private final long retryDelayMillis;
    /** Connect timeout and the longest wait for the next bytes of a body (HF_HUB_DOWNLOAD_TIMEOUT). */
    private final Duration readTimeout;
    /** Longest wait for the headers of a HEAD (HF_HUB_ETAG_TIMEOUT). */
    private final Duration etagTimeout;

    public HubClient(String endpoint, String token, HfCache cache, boolean offline) {
        this(endpoint, token, cache, offline, 500, Duration.ofMillis((long) (DEFAULT_TIMEOUT_SECONDS * 1000)),
                Duration.ofMillis((long) (DEFAULT_TIMEOUT_SECONDS * 1000)));
    }

    HubClient(String endpoint, String token, HfCache cache, boolean offline, long retryDelayMillis) {
        this(endpoint, token, cache, offline, retryDelayMillis, Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    HubClient(String endpoint, String token, HfCache cache, boolean offline, long retryDelayMillis, Duration readTimeout, Duration etagTimeout) {
        this.endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
        URI u;
        try {
            u = new URI(this.endpoint);
        } catch (java.net.URISyntaxException e) {
            u = null;
        }
        if (u == null || u.getHost() == null || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) {
            throw new FinloraException("HF_ENDPOINT '" + endpoint + "' is not an http(s) URL");
        }
        this.token = token == null || token.isBlank() ? null : token.trim();
        this.cache = cache;
        this.offline = offline;
        this.retryDelayMillis = retryDelayMillis;
        this.readTimeout = readTimeout;
        this.etagTimeout = etagTimeout;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(readTimeout).build();
    }

    /** Endpoint from HF_ENDPOINT, token from HF_TOKEN (or the login token file), cache from the HF variables, offline when HF_HUB_OFFLINE=1. */
    public static HubClient fromEnvironment() {
        Map<String, String> env = System.getenv();
        String ep = env.getOrDefault("HF_ENDPOINT", DEFAULT_ENDPOINT);
        String off = env.getOrDefault("HF_HUB_OFFLINE", "");
        boolean offline = off.equals("1") || off.equalsIgnoreCase("true") || off.equalsIgnoreCase("yes");
        return new HubClient(ep.isBlank() ? DEFAULT_ENDPOINT : ep, token(env), HfCache.fromEnvironment(env), offline, 500,
                timeout(env, "HF_HUB_DOWNLOAD_TIMEOUT"), timeout(env, "HF_HUB_ETAG_TIMEOUT"));
    }

    /** A timeout variable in seconds (huggingface_hub's names; default 10). */
    static Duration timeout(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return Duration.ofMillis((long) (DEFAULT_TIMEOUT_SECONDS * 1000));
        double s;
        try {
            s = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            s = Double.NaN;
        }
        if (!(s > 0 && s <= 86_400)) throw new FinloraException(name + "=" + v.trim() + ": expected a number of seconds in (0, 86400]");
        return Duration.ofMillis(Math.max(1, (long) (s * 1000)));
    }

    /** HF_TOKEN, else the token file huggingface-cli login writes ($HF_TOKEN_PATH, $HF_HOME/token, ~/.cache/huggingface/token). */
    static String token(Map<String, String> env) {
        String t = env.get("HF_TOKEN");
        if (t != null && !t.isBlank()) return t.trim();
        Path file;
        if (env.get("HF_TOKEN_PATH") != null) file = Path.of(env.get("HF_TOKEN_PATH"));
        else if (env.get("HF_HOME") != null) file = Path.of(env.get("HF_HOME"), "token");
        else file = Path.of(System.getProperty("user.home"), ".cache", "huggingface", "token");
        try {
            // a token file is a line; anything that is not a small regular file is not one (a FIFO would block)
            if (!Files.isRegularFile(file) || Files.size(file) > 64 * 1024) return null;
            String s = Files.readString(file).trim();
            return s.isEmpty() ? null : s;
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    public HfCache cache() {
        return cache;
    }

    public String endpoint() {
        return endpoint;
    }

    // ---- repo listing -------------------------------------------------------------------------

    public RepoInfo repoInfo(RepoType type, String repo, String revision) {
        HfCache.checkRepoId(repo);
        if (offline) throw new FinloraException(repo + ": cannot list files with HF_HUB_OFFLINE set");
        String url = endpoint + "/api/" + type.folderPrefix + "/" + repo
                + (revision.equals("main") ? "" : "/revision/" + encodeSegment(revision));
        HttpResponse<InputStream> r;
        try {
            r = http.send(request(url).GET().timeout(readTimeout).build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new UnreachableException(endpoint, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FinloraException(repo + ": interrupted");
        }
        byte[] body;
        try (InputStream in = new StallWatchdog(r.body(), readTimeout)) {
            checkStatus(r.statusCode(), r.headers().firstValue("X-Error-Code").orElse(""), repo, null, url);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                if (out.size() > MAX_LISTING_BYTES) {
                    throw new FinloraException(url + ": the repo listing is larger than " + (MAX_LISTING_BYTES >> 20) + " MiB (not a Hub answer?)");
                }
            }
            body = out.toByteArray();
        } catch (IOException e) {
            throw new UnreachableException(url + ": the listing did not arrive (" + e.getMessage() + ")");
        }
        return parseRepoInfo(url, repo, body);
    }

    /** The sha and file names of an /api/models reply; every name is checked before it can become a path. */
    public static RepoInfo parseRepoInfo(String url, String repo, byte[] body) {
        JsonNode root = Json.parse(url, body, MAX_LISTING_BYTES);
        JsonNode sha = root.get("sha"), siblings = root.get("siblings");
        if (sha == null || !sha.isTextual() || siblings == null || !siblings.isArray()) {
            throw new FinloraException(url + ": response has no sha/siblings");
        }
        HfCache.checkCommit(repo, sha.textValue());
        if (siblings.size() > MAX_LISTING_FILES) throw new FinloraException(url + ": the repo lists " + siblings.size() + " files (at most " + MAX_LISTING_FILES + ")");
        List<String> files = new ArrayList<>();
        for (JsonNode s : siblings) {
            JsonNode f = s.get("rfilename");
            if (f == null || !f.isTextual()) throw new FinloraException(url + ": a siblings entry has no rfilename string");
            HfCache.checkFileName(repo, f.textValue());
            files.add(f.textValue());
        }
        return new RepoInfo(sha.textValue(), files);
    }

    /**
     * Downloads every file of a revision accepted by {@code include} and returns the snapshot
     * folder. When the Hub cannot be reached, a cached snapshot of the revision is returned instead.
     */
    public Path downloadSnapshot(RepoType type, String repo, String revision, Predicate<String> include, Progress progress) {
        RepoInfo info;
        try {
            info = repoInfo(type, repo, revision);
        } catch (UnreachableException e) {
            return cache.snapshot(type, repo, revision).orElseThrow(() -> notCached(repo, e));
        } catch (FinloraException e) {
            if (offline) return cache.snapshot(type, repo, revision).orElseThrow(() -> notCached(repo, null));
            throw e;
        }
        for (String f : info.files()) {
            if (include.test(f)) download(type, repo, info.sha(), f, progress);
        }
        try {
            cache.writeRef(type, repo, revision, info.sha());
            Path snap = cache.snapshotDir(type, repo, info.sha());
            Files.createDirectories(snap);
            return snap;
        } catch (IOException e) {
            throw new FinloraException(cache.repoDir(type, repo) + ": cannot write (" + e.getMessage() + ")");
        }
    }

    // ---- one file -----------------------------------------------------------------------------

    /** Downloads one file (or finds it in the cache) and returns its path in the snapshot folder. */
    public Path download(RepoType type, String repo, String revision, String file, Progress progress) {
        HfCache.checkRepoId(repo);
        HfCache.checkFileName(repo, file);
        if (HfCache.isCommitHash(revision)) {
            Optional<Path> hit = cache.file(type, repo, revision, file);
            if (hit.isPresent()) return hit.get();
        }
        if (offline) return cache.file(type, repo, revision, file).orElseThrow(() -> notCached(repo, null));
        String url = endpoint + "/" + type.urlPrefix + repo + "/resolve/" + encodeSegment(revision) + "/" + encodePath(file);
        Meta meta;
        try {
            meta = head(url, repo, file);
        } catch (UnreachableException e) {
            return cache.file(type, repo, revision, file).orElseThrow(() -> notCached(repo, e));
        }
        // huggingface_hub refuses a reply without X-Repo-Commit unless the revision is itself a commit:
        // nothing a server sends becomes a folder name without being a commit hash.
        String commit = meta.commit != null ? meta.commit : revision;
        if (!HfCache.isCommitHash(commit)) {
            throw new FinloraException(url + ": the server sent no X-Repo-Commit header (is HF_ENDPOINT a Hub?)");
        }
        try {
            cache.writeRef(type, repo, revision, commit);
            Path pointer = cache.snapshotFile(type, repo, commit, file);
            if (Files.isRegularFile(pointer)) return pointer;
            Path blob = cache.blobPath(type, repo, meta.etag);
            if (!Files.isRegularFile(blob)) {
                // One writer per blob across processes (the lock lives where huggingface_hub keeps its own).
                Path lockFile = cache.root().resolve(".locks").resolve(cache.repoDir(type, repo).getFileName()).resolve(meta.etag + ".lock");
                Files.createDirectories(lockFile.getParent());
                try (FileChannel lock = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     var held = lock.lock()) {
                    if (!Files.isRegularFile(blob)) fetch(meta, () -> head(url, repo, file), blob, repo, file, progress);
                } catch (java.nio.channels.OverlappingFileLockException e) {
                    throw new FinloraException(repo + ": " + file + " is already being downloaded by this process");
                }
            }
            link(blob, pointer);
            return pointer;
        } catch (IOException e) {
            throw new FinloraException(cache.repoDir(type, repo) + ": cannot write (" + e.getMessage() + ")");
        }
    }

    /** What a HEAD told: where to GET, the commit, the blob's etag and size (-1 unknown). */
    private record Meta(String url, String commit, String etag, long size) {
    }

    private Meta head(String url, String repo, String file) {
        String current = url;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpResponse<Void> r;
            try {
                r = http.send(request(current).method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .header("Accept-Encoding", "identity").timeout(etagTimeout).build(), HttpResponse.BodyHandlers.discarding());
            } catch (IOException e) {
                throw new UnreachableException(endpoint, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FinloraException(repo + ": interrupted");
            }
            int code = r.statusCode();
            var h = r.headers();
            if (code >= 300 && code < 400) {
                String loc = h.firstValue("Location").orElseThrow(() -> new FinloraException(url + ": redirect without Location"));
                URI target = URI.create(current).resolve(loc);
                // A relative redirect is the Hub itself (renamed repo); an absolute one is the CDN holding the blob.
                if (!URI.create(loc).isAbsolute()) {
                    current = target.toString();
                    continue;
                }
                return meta(h, target.toString(), url);
            }
            checkStatus(code, h.firstValue("X-Error-Code").orElse(""), repo, file, url);
            return meta(h, current, url);
        }
        throw new FinloraException(url + ": more than " + MAX_REDIRECTS + " redirects");
    }

    private static Meta meta(java.net.http.HttpHeaders h, String getUrl, String url) {
        String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag"))
                .map(HubClient::normalizeEtag).orElse(null);
        if (!HfCache.isEtag(etag)) {
            throw new FinloraException(url + ": the server sent no usable ETag (is HF_ENDPOINT a Hub?)");
        }
        long size = h.firstValue("X-Linked-Size").or(() -> h.firstValue("Content-Length"))
                .map(s -> {
                    try {
                        return Long.parseLong(s.trim());
                    } catch (NumberFormatException e) {
                        return -1L;
                    }
                }).orElse(-1L);
        return new Meta(getUrl, h.firstValue("X-Repo-Commit").map(String::trim).filter(HfCache::isCommitHash).orElse(null), etag, size);
    }

    static String normalizeEtag(String e) {
        String s = e.trim();
        if (s.startsWith("W/")) s = s.substring(2);
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) s = s.substring(1, s.length() - 1);
        return s;
    }

    /** GETs the blob into blobs/&lt;etag&gt;.incomplete, resuming after cut connections, then verifies and moves it. */
    private void fetch(Meta meta, java.util.function.Supplier<Meta> refresh, Path blob, String repo, String file,
                       Progress progress) throws IOException {
        Files.createDirectories(blob.getParent());
        Path part = blob.resolveSibling(blob.getFileName() + ".incomplete");
        IOException last = null;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            try {
                if (getInto(meta, part, repo, file, progress)) {
                    last = null;
                    break;
                }
            } catch (IOException e) {
                last = e;
                sleep(retryDelayMillis * attempt);
                // Signed CDN URLs expire: ask the Hub again where the same blob lives.
                try {
                    Meta fresh = refresh.get();
                    if (fresh.etag.equals(meta.etag)) meta = fresh;
                } catch (FinloraException ignored) {
                    // keep the old URL; the next attempt reports what is wrong
                }
            }
        }
        if (last != null) {
            throw new FinloraException(repo + ": download of " + file + " failed after " + MAX_ATTEMPTS + " attempts ("
                    + last.getMessage() + "); run again to resume from " + (Files.exists(part) ? Files.size(part) : 0) + " bytes");
        }
        long have = Files.size(part);
        if (meta.size >= 0 && have != meta.size) {
            Files.deleteIfExists(part);
            throw new FinloraException(repo + ": " + file + " arrived with " + have + " bytes but the Hub announced " + meta.size);
        }
        if (SHA256.matcher(meta.etag).matches()) {
            String got = sha256(part);
            if (!got.equals(meta.etag)) {
                Files.deleteIfExists(part);
                throw new FinloraException(repo + ": sha256 mismatch for " + file + ": expected " + meta.etag + ", got " + got
                        + " (corrupted download removed; run again)");
            }
        }
        try {
            Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (java.nio.file.AtomicMoveNotSupportedException e) {
            Files.move(part, blob, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** One GET attempt; true when the body arrived completely. IOException means "try again". */
    private boolean getInto(Meta meta, Path part, String repo, String file, Progress progress) throws IOException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (meta.size >= 0 && have > meta.size) {
            Files.delete(part);
            have = 0;
        }
        if (meta.size >= 0 && have == meta.size && have > 0) return true;
        String current = meta.url;
        HttpResponse<InputStream> r = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = request(current).GET().header("Accept-Encoding", "identity").timeout(readTimeout);
            if (have > 0) b.header("Range", "bytes=" + have + "-");
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FinloraException(repo + ": interrupted");
            }
            int code = r.statusCode();
            if (code >= 300 && code < 400) {
                r.body().close();
                String loc = r.headers().firstValue("Location").orElseThrow(() -> new IOException("redirect without Location"));
                current = URI.create(current).resolve(loc).toString();
                continue;
            }
            break;
        }
        if (r == null || (r.statusCode() >= 300 && r.statusCode() < 400)) throw new FinloraException(meta.url + ": too many redirects");
        int code = r.statusCode();
        try (InputStream in = new StallWatchdog(r.body(), readTimeout)) {
            if (code == 416 && have > 0) { // our partial file is already whole (or stale): verify below or restart
                if (meta.size < 0 || have == meta.size) return true;
                Files.delete(part);
                throw new IOException("server refused the resume range");
            }
            if (code >= 500) throw new IOException("HTTP " + code + " from the server");
            if (code >= 400 && !sameHost(URI.create(r.uri().toString()), URI.create(endpoint))) {
                throw new IOException("HTTP " + code + " from the download host " + r.uri().getHost());
            }
            checkStatus(code, r.headers().firstValue("X-Error-Code").orElse(""), repo, file, meta.url);
            boolean append = code == 206;
            if (append) {
                String cr = r.headers().firstValue("Content-Range").orElse("");
                if (!cr.startsWith("bytes " + have + "-")) throw new IOException("unexpected Content-Range '" + cr + "'");
            } else {
                have = 0;   // a 200 is the whole file: start over
            }
            long total = meta.size;
            try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                out.truncate(have);
                out.position(have);
                byte[] buf = new byte[1 << 16];
                long done = have;
                long lastReport = 0;
                progress.update(file, done, total);
                for (int n; (n = in.read(buf)) > 0; ) {
                    AtomicFiles.writeFully(out, ByteBuffer.wrap(buf, 0, n));
                    done += n;
                    if (done - lastReport >= (8 << 20)) {
                        progress.update(file, done, total);
                        lastReport = done;
                    }
                }
                progress.update(file, done, total);
                if (total >= 0 && done < total) throw new IOException("connection closed after " + done + " of " + total + " bytes");
            }
        }
        return true;
    }

    /** snapshots/&lt;commit&gt;/&lt;file&gt; → ../../blobs/&lt;etag&gt; as a relative symlink, else a copy. */
    private static void link(Path blob, Path pointer) throws IOException {
        Files.createDirectories(pointer.getParent());
        Path tmp = pointer.resolveSibling("." + pointer.getFileName() + ".link");
        Files.deleteIfExists(tmp);
        try {
            Files.createSymbolicLink(tmp, pointer.getParent().relativize(blob));
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        AtomicFiles.moveIntoPlace(tmp, pointer);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private HttpRequest.Builder request(String url) {
        URI uri = URI.create(url);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("User-Agent", "finlora-j/0.1");
        // The token goes to the Hub only, never to a CDN host a redirect points at.
        if (token != null && sameHost(uri, URI.create(endpoint))) b.header("Authorization", "Bearer " + token);
        return b;
    }

    private static boolean sameHost(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    private void checkStatus(int code, String errorCode, String repo, String file, String url) {
        if (code >= 200 && code < 300) return;
        String what = file == null ? repo : repo + "/" + file;
        if (code == 401 || code == 403) {
            throw new FinloraException(what + ": access denied (HTTP " + code + ") — the repo may be private or gated; "
                    + (token == null ? "set HF_TOKEN to a token that has access" : "check that HF_TOKEN has access to it"));
        }
        if (code == 404) {
            if (errorCode.equals("EntryNotFound") && file != null) throw new FinloraException(repo + ": file " + file + " not found in the repo (HTTP 404)");
            if (errorCode.equals("RevisionNotFound")) throw new FinloraException(repo + ": revision not found (HTTP 404)");
            if (errorCode.equals("RepoNotFound") || file == null) throw new FinloraException(repo + ": repo not found on " + endpoint + " (HTTP 404)");
            throw new FinloraException(what + ": not found on " + endpoint + " (HTTP 404)");
        }
        if (code >= 500) throw new UnreachableException(what + ": HTTP " + code + " from " + url + " (server error; try again later)");
        throw new FinloraException(what + ": HTTP " + code + " from " + url);
    }

    private FinloraException notCached(String repo, UnreachableException cause) {
        if (cause != null && cause.getCause() == null) return cause;   // a server error: its own message says more
        String why = offline ? "HF_HUB_OFFLINE is set" : "cannot reach " + endpoint;
        return new FinloraException(why + " and " + repo + " is not in the HF cache at " + cache.root()
                + (cause != null && cause.getCause() != null && cause.getCause().getMessage() != null
                ? " (" + cause.getCause().getClass().getSimpleName() + ")" : ""), cause);
    }

    /** The Hub is not usable right now: a network failure before any HTTP status, or a 5xx. The cache may still serve. */
    static final class UnreachableException extends FinloraException {
        UnreachableException(String endpoint, IOException cause) {
            super("cannot reach " + endpoint + " (" + cause.getClass().getSimpleName() + ")", cause);
        }

        UnreachableException(String message) {
            super(message);
        }
    }

    static String encodeSegment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String encodePath(String file) {
        StringBuilder sb = new StringBuilder();
        for (String part : file.split("/")) {
            if (!sb.isEmpty()) sb.append('/');
            sb.append(encodeSegment(part));
        }
        return sb.toString();
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
