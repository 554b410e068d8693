package org.finlora.io;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.finlora.FinloraException;
import org.finlora.io.HfCache.RepoType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** HubClient against a fake Hub on 127.0.0.1 (ephemeral port) that behaves like huggingface.co. */
class HubClientTest {
    static final String REPO = "acme/tiny-llama";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    Path tmp;
    HttpServer server;
    java.util.concurrent.ExecutorService pool;
    String endpoint;

    /** file → content; LFS files are served through a redirect to /cdn/ with a sha256 X-Linked-Etag. */
    final Map<String, byte[]> files = new LinkedHashMap<>();
    final Map<String, Boolean> lfs = new LinkedHashMap<>();
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final List<String> auth = Collections.synchronizedList(new ArrayList<>());
    final List<String> ranges = Collections.synchronizedList(new ArrayList<>());
    String requiredToken;
    boolean serverError;
    /** Number of CDN GETs still to cut after cutAfter bytes. */
    final AtomicInteger cutsLeft = new AtomicInteger();
    int cutAfter;
    /** Serve these bytes from the CDN instead of the real content (a corrupted transfer). */
    byte[] corrupt;
    /** The sha the listing API answers (a hostile server may send anything). */
    String apiSha = COMMIT;
    /** Leave X-Repo-Commit out of HEAD replies. */
    boolean noRepoCommit;
    /** CDN bodies stop after this many bytes and then say nothing (-1: never stall). */
    int stallAfter = -1;
    /** Bytes of padding in the listing reply (a listing that never ends). */
    long listingPadding;

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static String gitEtag(String name) {
        return String.format("%040x", Math.abs((long) name.hashCode()) + 1);
    }

    @BeforeEach
    void start() throws Exception {
        byte[] big = new byte[300_000];
        new Random(7).nextBytes(big);
        files.put("config.json", "{\"model_type\":\"llama\"}".getBytes(StandardCharsets.UTF_8));
        lfs.put("config.json", false);
        files.put("model.safetensors", big);
        lfs.put("model.safetensors", true);
        files.put("original/consolidated.pth", new byte[]{1, 2, 3});
        lfs.put("original/consolidated.pth", true);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        pool = java.util.concurrent.Executors.newCachedThreadPool();
        server.setExecutor(pool);
        server.start();
        endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        pool.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        String method = ex.getRequestMethod();
        log.add(method + " " + path);
        auth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
        try (ex) {
            if (serverError) {
                ex.sendResponseHeaders(503, -1);
                return;
            }
            if (requiredToken != null && !path.startsWith("/cdn/")
                    && !("Bearer " + requiredToken).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                ex.sendResponseHeaders(401, -1);
                return;
            }
            if (path.equals("/api/models/" + REPO)) {
                StringBuilder json = new StringBuilder("{\"id\":\"" + REPO + "\",\"sha\":\"" + apiSha + "\",\"siblings\":[");
                int i = 0;
                for (String f : files.keySet()) json.append(i++ == 0 ? "" : ",").append("{\"rfilename\":\"").append(f).append("\"}");
                byte[] body = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
                if (listingPadding > 0) {
                    ex.sendResponseHeaders(200, 0);
                    byte[] spaces = new byte[1 << 16];
                    java.util.Arrays.fill(spaces, (byte) ' ');
                    try {
                        for (long sent = 0; sent < listingPadding; sent += spaces.length) ex.getResponseBody().write(spaces);
                    } catch (IOException closedByClient) {
                        return;
                    }
                    ex.getResponseBody().write(body);
                    return;
                }
                send(ex, 200, body);
                return;
            }
            if (path.startsWith("/api/models/")) {
                ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
                ex.sendResponseHeaders(404, -1);
                return;
            }
            if (path.startsWith("/cdn/")) {
                byte[] body = null;
                for (byte[] b : files.values()) if (sha256(b).equals(path.substring(5))) body = b;
                if (body == null) {
                    ex.sendResponseHeaders(404, -1);
                    return;
                }
                if (corrupt != null) body = corrupt;
                String range = ex.getRequestHeaders().getFirst("Range");
                ranges.add(String.valueOf(range));
                int from = range == null ? 0 : Integer.parseInt(range.substring(6, range.length() - 1));
                if (range != null) {
                    ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
                }
                int len = body.length - from;
                ex.sendResponseHeaders(range == null ? 200 : 206, len);
                OutputStream out = ex.getResponseBody();
                if (stallAfter >= 0) {
                    out.write(body, from, Math.min(stallAfter, len));
                    out.flush();
                    try {
                        Thread.sleep(5_000);
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                    throw new IOException("stalled");
                }
                if (cutsLeft.getAndDecrement() > 0) {
                    out.write(body, from, cutAfter);
                    out.flush();
                    ex.getHttpContext().getServer();   // then drop the connection mid-body
                    throw new IOException("cut");
                }
                out.write(body, from, len);
                return;
            }
            String prefix = "/" + REPO + "/resolve/";
            if (!path.startsWith(prefix)) {
                ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
                ex.sendResponseHeaders(404, -1);
                return;
            }
            String rest = path.substring(prefix.length());
            String file = rest.substring(rest.indexOf('/') + 1);
            byte[] body = files.get(file);
            if (body == null) {
                ex.getResponseHeaders().set("X-Error-Code", "EntryNotFound");
                ex.sendResponseHeaders(404, -1);
                return;
            }
            if (!noRepoCommit) ex.getResponseHeaders().set("X-Repo-Commit", COMMIT);
            if (lfs.get(file)) {
                String sha = sha256(body);
                ex.getResponseHeaders().set("X-Linked-Etag", "\"" + sha + "\"");
                ex.getResponseHeaders().set("X-Linked-Size", Integer.toString(body.length));
                ex.getResponseHeaders().set("ETag", "\"" + gitEtag(file) + "\"");
                ex.getResponseHeaders().set("Location", endpoint + "/cdn/" + sha);
                ex.sendResponseHeaders(302, -1);
                return;
            }
            ex.getResponseHeaders().set("ETag", "\"" + gitEtag(file) + "\"");
            if (method.equals("HEAD")) {
                ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
                ex.sendResponseHeaders(200, -1);
            } else {
                send(ex, 200, body);
            }
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private static void send(HttpExchange ex, int code, byte[] body) throws IOException {
        ex.sendResponseHeaders(code, body.length);
        ex.getResponseBody().write(body);
    }

    HubClient client(String token) {
        return new HubClient(endpoint, token, new HfCache(tmp.resolve("hub")), false, 1);
    }

    @Test
    void downloadsIntoTheCacheLayout() throws Exception {
        List<long[]> progress = Collections.synchronizedList(new ArrayList<>());
        HubClient hub = client(null);
        Path p = hub.download(RepoType.MODEL, REPO, "main", "model.safetensors", (f, done, total) -> progress.add(new long[]{done, total}));
        Path repoDir = tmp.resolve("hub/models--acme--tiny-llama");
        assertEquals(repoDir.resolve("snapshots/" + COMMIT + "/model.safetensors"), p);
        assertArrayEquals(files.get("model.safetensors"), Files.readAllBytes(p));
        assertTrue(Files.isSymbolicLink(p));
        assertEquals(repoDir.resolve("blobs/" + sha256(files.get("model.safetensors"))), p.toRealPath());
        assertEquals(COMMIT, Files.readString(repoDir.resolve("refs/main")));
        assertFalse(progress.isEmpty());
        assertArrayEquals(new long[]{300_000, 300_000}, progress.getLast());
        Path cfg = hub.download(RepoType.MODEL, REPO, "main", "config.json", HubClient.Progress.NONE);
        assertEquals(repoDir.resolve("blobs/" + gitEtag("config.json")), cfg.toRealPath());
        assertEquals("{\"model_type\":\"llama\"}", Files.readString(cfg));
        try (var s = Files.list(repoDir.resolve("blobs"))) {
            assertTrue(s.noneMatch(f -> f.toString().endsWith(".incomplete")));
        }
        // A second call finds the snapshot file: one HEAD, no GET.
        log.clear();
        assertEquals(p, hub.download(RepoType.MODEL, REPO, "main", "model.safetensors", HubClient.Progress.NONE));
        assertEquals(List.of("HEAD /" + REPO + "/resolve/main/model.safetensors"), log);
        // HfCache sees it.
        HfCache cache = hub.cache();
        assertEquals(p, cache.file(RepoType.MODEL, REPO, "main", "model.safetensors").orElseThrow());
    }

    @Test
    void resumesAfterACutConnection() throws Exception {
        cutsLeft.set(1);
        cutAfter = 100_000;
        Path p = client(null).download(RepoType.MODEL, REPO, "main", "model.safetensors", HubClient.Progress.NONE);
        assertArrayEquals(files.get("model.safetensors"), Files.readAllBytes(p));
        assertEquals("null", ranges.get(0));
        assertEquals(2, ranges.size(), ranges.toString());
        long resumedAt = Long.parseLong(ranges.get(1).replaceAll("bytes=(\\d+)-", "$1"));
        assertTrue(resumedAt > 0 && resumedAt <= 100_000, "resumed at " + resumedAt);
    }

    @Test
    void resumesAPartialFileLeftByAnEarlierRun() throws Exception {
        byte[] body = files.get("model.safetensors");
        Path blobs = Files.createDirectories(tmp.resolve("hub/models--acme--tiny-llama/blobs"));
        Files.write(blobs.resolve(sha256(body) + ".incomplete"), java.util.Arrays.copyOf(body, 12345));
        Path p = client(null).download(RepoType.MODEL, REPO, "main", "model.safetensors", HubClient.Progress.NONE);
        assertEquals(List.of("bytes=12345-"), ranges);
        assertArrayEquals(body, Files.readAllBytes(p));
    }

    @Test
    void detectsSha256Mismatch() throws Exception {
        byte[] bad = files.get("model.safetensors").clone();
        bad[1000] ^= 1;
        corrupt = bad;
        var e = assertThrows(FinloraException.class,
                () -> client(null).download(RepoType.MODEL, REPO, "main", "model.safetensors", HubClient.Progress.NONE));
        assertTrue(e.getMessage().contains("sha256 mismatch") && e.getMessage().contains("model.safetensors")
                && e.getMessage().contains(sha256(files.get("model.safetensors"))), e.getMessage());
        Path blobs = tmp.resolve("hub/models--acme--tiny-llama/blobs");
        try (var s = Files.list(blobs)) {
            assertEquals(0, s.count(), "neither the blob nor the corrupt partial file is kept");
        }
    }

    @Test
    void sendsTheTokenAndExplainsAccessErrors() {
        requiredToken = "hf_secret";
        var e = assertThrows(FinloraException.class, () -> client(null).download(RepoType.MODEL, REPO, "main", "config.json", HubClient.Progress.NONE));
        assertTrue(e.getMessage().contains("401") && e.getMessage().contains("HF_TOKEN"), e.getMessage());
        auth.clear();
        Path p = client("hf_secret").download(RepoType.MODEL, REPO, "main", "config.json", HubClient.Progress.NONE);
        assertTrue(Files.isRegularFile(p));
        assertTrue(auth.contains("Bearer hf_secret"), auth.toString());
        e = assertThrows(FinloraException.class, () -> client("wrong").download(RepoType.MODEL, REPO, "main", "config.json", HubClient.Progress.NONE));
        assertTrue(e.getMessage().contains("access denied") && e.getMessage().contains("HF_TOKEN has access"), e.getMessage());
    }

    @Test
    void notFoundErrorsNameRepoAndFile() {
        var e = assertThrows(FinloraException.class, () -> client(null).download(RepoType.MODEL, REPO, "main", "nope.json", HubClient.Progress.NONE));
        assertEquals(REPO + ": file nope.json not found in the repo (HTTP 404)", e.getMessage());
        e = assertThrows(FinloraException.class, () -> client(null).download(RepoType.MODEL, "acme/other", "main", "config.json", HubClient.Progress.NONE));
        assertTrue(e.getMessage().startsWith("acme/other: repo not found"), e.getMessage());
        e = assertThrows(FinloraException.class, () -> client(null).repoInfo(RepoType.MODEL, "acme/other", "main"));
        assertTrue(e.getMessage().startsWith("acme/other: repo not found"), e.getMessage());
        assertThrows(FinloraException.class, () -> client(null).download(RepoType.MODEL, REPO, "main", "../escape", HubClient.Progress.NONE));
        assertThrows(FinloraException.class, () -> client(null).download(RepoType.MODEL, "../x", "main", "a", HubClient.Progress.NONE));
    }

    static String deadEndpoint() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return "http://127.0.0.1:" + s.getLocalPort();   // closed when we return: connections are refused
        }
    }

    @Test
    void unreachableHostWithoutCacheSaysSo() throws Exception {
        String dead = deadEndpoint();
        HubClient hub = new HubClient(dead, null, new HfCache(tmp.resolve("empty")), false, 1);
        var e = assertThrows(FinloraException.class, () -> hub.download(RepoType.MODEL, REPO, "main", "config.json", HubClient.Progress.NONE));
        assertTrue(e.getMessage().startsWith("cannot reach " + dead + " and " + REPO + " is not in the HF cache at " + tmp.resolve("empty")), e.getMessage());
        e = assertThrows(FinloraException.class, () -> ModelLoader.resolveRepo(REPO, hub, HubClient.Progress.NONE));
        assertTrue(e.getMessage().startsWith("cannot reach " + dead + " and " + REPO + " is not in the HF cache"), e.getMessage());
    }

    @Test
    void cacheHitsNeedNoNetwork() throws Exception {
        Path snap = client(null).downloadSnapshot(RepoType.MODEL, REPO, "main", ModelLoader.MODEL_FILES, HubClient.Progress.NONE);
        assertEquals(tmp.resolve("hub/models--acme--tiny-llama/snapshots/" + COMMIT), snap);
        assertTrue(Files.isRegularFile(snap.resolve("config.json")));
        assertTrue(Files.isRegularFile(snap.resolve("model.safetensors")));
        assertFalse(Files.exists(snap.resolve("original")), "sub-folders are not fetched for a model");
        server.stop(0);
        log.clear();
        HubClient offline = new HubClient(deadEndpoint(), null, new HfCache(tmp.resolve("hub")), false, 1);
        assertEquals(snap.resolve("config.json"), offline.download(RepoType.MODEL, REPO, "main", "config.json", HubClient.Progress.NONE));
        assertEquals(snap, offline.downloadSnapshot(RepoType.MODEL, REPO, "main", f -> true, HubClient.Progress.NONE));
        assertEquals(snap, ModelLoader.resolveRepo(REPO, offline, HubClient.Progress.NONE));
        HubClient hfOffline = new HubClient(deadEndpoint(), null, new HfCache(tmp.resolve("hub")), true, 1);
        assertEquals(snap.resolve("model.safetensors"), hfOffline.download(RepoType.MODEL, REPO, "main", "model.safetensors", HubClient.Progress.NONE));
        assertTrue(log.isEmpty());
    }

    @Test
    void datasetsUseTheirOwnUrlsAndFolders() throws Exception {
        server.createContext("/datasets/acme/fin-qa/resolve/", ex -> {
            try (ex) {
                byte[] body = "{\"context\":\"q\",\"target\":\"a\"}\n".getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("X-Repo-Commit", COMMIT);
                ex.getResponseHeaders().set("ETag", "\"" + gitEtag("train.jsonl") + "\"");
                if (ex.getRequestMethod().equals("HEAD")) {
                    ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
                    ex.sendResponseHeaders(200, -1);
                } else {
                    send(ex, 200, body);
                }
            }
        });
        Path p = client(null).download(RepoType.DATASET, "acme/fin-qa", "main", "data/train.jsonl", HubClient.Progress.NONE);
        assertEquals(tmp.resolve("hub/datasets--acme--fin-qa/snapshots/" + COMMIT + "/data/train.jsonl"), p);
        assertTrue(Files.readString(p).contains("\"target\""));
    }

    @Test
    void serverErrorsFallBackToTheCache() throws Exception {
        HubClient hub = client(null);
        Path p = hub.download(RepoType.MODEL, REPO, "main", "config.json", HubClient.Progress.NONE);
        serverError = true;
        assertEquals(p, hub.download(RepoType.MODEL, REPO, "main", "config.json", HubClient.Progress.NONE));
        var e = assertThrows(FinloraException.class, () -> hub.download(RepoType.MODEL, REPO, "main", "model.safetensors", HubClient.Progress.NONE));
        assertTrue(e.getMessage().contains("HTTP 503") && e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void badEndpointIsAUserError() {
        var e = assertThrows(FinloraException.class, () -> new HubClient("not a url", null, new HfCache(tmp), false));
        assertTrue(e.getMessage().contains("HF_ENDPOINT"), e.getMessage());
        assertThrows(FinloraException.class, () -> new HubClient("ftp://x", null, new HfCache(tmp), false));
    }

    @Test
    void tokenComesFromTheLoginFile() throws Exception {
        Files.writeString(tmp.resolve("token"), "hf_file\n");
        assertEquals("hf_file", HubClient.token(Map.of("HF_HOME", tmp.toString())));
        assertEquals("hf_file", HubClient.token(Map.of("HF_TOKEN_PATH", tmp.resolve("token").toString())));
        assertNull(HubClient.token(Map.of("HF_HOME", tmp.resolve("none").toString())));
    }

    @Test
    void aTraversalShaFromTheServerNeverBecomesAPath() throws Exception {
        apiSha = "../../../../escaped";
        noRepoCommit = true;
        HubClient hub = client(null);
        var e = assertThrows(FinloraException.class, () -> hub.downloadSnapshot(RepoType.MODEL, REPO, "main", ModelLoader.MODEL_FILES, HubClient.Progress.NONE));
        assertTrue(e.getMessage().contains("not a 40-character hex commit hash"), e.getMessage());
        // the same sha handed to download() as a revision: no X-Repo-Commit, so no commit to name a folder after
        e = assertThrows(FinloraException.class, () -> hub.download(RepoType.MODEL, REPO, "../../../../escaped", "config.json", HubClient.Progress.NONE));
        assertTrue(e.getMessage().contains("X-Repo-Commit"), e.getMessage());
        try (var s = Files.walk(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().equals("escaped")), "nothing was created for the traversal name");
        }
        assertFalse(Files.exists(tmp.resolve("hub/models--acme--tiny-llama/refs/main")), "refs/main never holds a non-commit");
        // a ref file planted with a traversal is not followed
        Path refs = Files.createDirectories(tmp.resolve("hub/models--acme--tiny-llama/refs"));
        Files.writeString(refs.resolve("main"), "../../../../escaped");
        assertTrue(hub.cache().snapshot(RepoType.MODEL, REPO, "main").isEmpty());
        assertThrows(FinloraException.class, () -> hub.cache().snapshotDir(RepoType.MODEL, REPO, "../x"));
    }

    @Test
    void aSnapshotLinkPointingOutsideTheCacheIsRefused() throws Exception {
        HubClient hub = client(null);
        Path p = hub.download(RepoType.MODEL, REPO, "main", "config.json", HubClient.Progress.NONE);
        Path outside = Files.writeString(tmp.resolve("secret.txt"), "x");
        Files.delete(p);
        Files.createSymbolicLink(p, outside);
        var e = assertThrows(FinloraException.class, () -> hub.cache().file(RepoType.MODEL, REPO, "main", "config.json"));
        assertTrue(e.getMessage().contains("outside the HF cache"), e.getMessage());
    }

    @Test
    void repoIdsFollowHuggingFaceHubRules() {
        // '--' is the cache's separator: t--x/ok and t/x--ok would share models--t--x--ok
        assertFalse(HfCache.isRepoId("t--x/ok"));
        assertFalse(HfCache.isRepoId("t/x--ok"));
        assertFalse(HfCache.isRepoId("a/b.git"));
        assertFalse(HfCache.isRepoId("a/.b"));
        assertFalse(HfCache.isRepoId("a/b-"));
        assertFalse(HfCache.isRepoId("a/" + "b".repeat(97)));
        assertFalse(HfCache.isRepoId("a/b\0"));
        assertFalse(HfCache.isRepoId(""));
        assertTrue(HfCache.isRepoId("gpt2"));
        assertTrue(HfCache.isRepoId("meta-llama/Llama-3.1-8B-Instruct"));
        assertTrue(HfCache.isRepoId("a_b/c.d_e-f"));
        assertTrue(HfCache.isRepoId("a/" + "b".repeat(96)));
        var e = assertThrows(FinloraException.class, () -> client(null).download(RepoType.MODEL, "t--x/ok", "main", "config.json", HubClient.Progress.NONE));
        assertTrue(e.getMessage().contains("not a valid HF repo id"), e.getMessage());
        for (String bad : List.of("C:evil", "a/../b", "a//b", "x\u0000y", "a\\b", "./a", "a/")) {
            assertThrows(FinloraException.class, () -> HfCache.checkFileName(REPO, bad), bad);
        }
    }

    @Test
    void aStalledBodyTimesOutAndTheDownloadFailsCleanly() {
        stallAfter = 1000;
        HubClient hub = new HubClient(endpoint, null, new HfCache(tmp.resolve("hub")), false, 1,
                java.time.Duration.ofMillis(300), java.time.Duration.ofSeconds(5));
        long t0 = System.nanoTime();
        var e = assertThrows(FinloraException.class, () -> hub.download(RepoType.MODEL, REPO, "main", "model.safetensors", HubClient.Progress.NONE));
        assertTrue(e.getMessage().contains("HF_HUB_DOWNLOAD_TIMEOUT"), e.getMessage());
        assertTrue((System.nanoTime() - t0) / 1e9 < 10, "gave up within a few timeouts");
    }

    @Test
    void anEndlessListingIsCut() {
        listingPadding = HubClient.MAX_LISTING_BYTES + (1 << 20);
        var e = assertThrows(FinloraException.class, () -> client(null).repoInfo(RepoType.MODEL, REPO, "main"));
        assertTrue(e.getMessage().contains("larger than 32 MiB"), e.getMessage());
    }

    @Test
    void timeoutsComeFromTheEnvironment() {
        assertEquals(java.time.Duration.ofSeconds(10), HubClient.timeout(Map.of(), "HF_HUB_DOWNLOAD_TIMEOUT"));
        assertEquals(java.time.Duration.ofMillis(2500), HubClient.timeout(Map.of("HF_HUB_DOWNLOAD_TIMEOUT", "2.5"), "HF_HUB_DOWNLOAD_TIMEOUT"));
        var e = assertThrows(FinloraException.class, () -> HubClient.timeout(Map.of("HF_HUB_ETAG_TIMEOUT", "soon"), "HF_HUB_ETAG_TIMEOUT"));
        assertTrue(e.getMessage().startsWith("HF_HUB_ETAG_TIMEOUT=soon"), e.getMessage());
    }

    @Test
    void cacheRootFollowsTheEnvironment() throws Exception {
        assertEquals(Path.of("/x/hub-cache"), HfCache.fromEnvironment(Map.of("HF_HUB_CACHE", "/x/hub-cache", "HF_HOME", "/y")).root());
        assertEquals(Path.of("/y/hub"), HfCache.fromEnvironment(Map.of("HF_HOME", "/y")).root());
        assertEquals(Path.of("/z/huggingface/hub"), HfCache.fromEnvironment(Map.of("XDG_CACHE_HOME", "/z")).root());
        assertEquals(Path.of(System.getProperty("user.home"), ".cache/huggingface/hub"), HfCache.fromEnvironment(Map.of()).root());
        assertTrue(HfCache.isRepoId("meta-llama/Llama-3.2-1B"));
        assertEquals("hf_env", HubClient.token(Map.of("HF_TOKEN", " hf_env\n", "HF_HOME", tmp.toString())));
        assertFalse(HfCache.isRepoId("../etc"));
        assertFalse(HfCache.isRepoId("a/b/c"));
    }
}
