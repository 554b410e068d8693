package org.finlora.io;

import org.finlora.FinloraException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The huggingface_hub cache layout: {@code <root>/models--{org}--{name}/} (or {@code datasets--})
 * with {@code refs/<revision>} holding a commit hash, {@code snapshots/<commit>/<file>} links to
 * {@code blobs/<etag>}. Root: $HF_HUB_CACHE, else $HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 */
public final class HfCache {
    public enum RepoType {
        MODEL("models", ""), DATASET("datasets", "datasets/");

        /** Folder prefix in the cache ({@code models--org--name}). */
        public final String folderPrefix;
        /** Path prefix in Hub URLs ({@code /datasets/org/name/resolve/...}). */
        public final String urlPrefix;

        RepoType(String folderPrefix, String urlPrefix) {
            this.folderPrefix = folderPrefix;
            this.urlPrefix = urlPrefix;
        }
    }

    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]*(/[A-Za-z0-9_.\\-]+)?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path root;

    public HfCache(Path root) {
        this.root = root;
    }

    public static HfCache fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    public static HfCache fromEnvironment(Map<String, String> env) {
        String hubCache = env.get("HF_HUB_CACHE");
        if (hubCache != null && !hubCache.isBlank()) return new HfCache(Path.of(hubCache));
        String home = env.get("HF_HOME");
        if (home != null && !home.isBlank()) return new HfCache(Path.of(home, "hub"));
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return new HfCache(Path.of(xdg, "huggingface", "hub"));
        return new HfCache(Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub"));
    }

    public Path root() {
        return root;
    }

    /** True for {@code name} or {@code org/name} made of letters, digits, '_', '-', '.' (and no '..'). */
    public static boolean isRepoId(String s) {
        return s != null && REPO_ID.matcher(s).matches() && !s.contains("..");
    }

    public static boolean isCommitHash(String s) {
        return s != null && COMMIT.matcher(s).matches();
    }

    static void checkRepoId(String repo) {
        if (!isRepoId(repo)) throw new FinloraException("'" + repo + "' is not a valid HF repo id (expected org/name)");
    }

    /** Rejects absolute paths and '..' so a file name from a server cannot escape the snapshot. */
    static void checkFileName(String repo, String file) {
        if (file.isEmpty() || file.startsWith("/") || file.startsWith("\\") || file.contains("\\") || file.contains("\0")) {
            throw new FinloraException(repo + ": invalid file name '" + file + "'");
        }
        for (String part : file.split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) throw new FinloraException(repo + ": invalid file name '" + file + "'");
        }
    }

    public Path repoDir(RepoType type, String repo) {
        checkRepoId(repo);
        return root.resolve(type.folderPrefix + "--" + repo.replace("/", "--"));
    }

    public Path blobPath(RepoType type, String repo, String etag) {
        return repoDir(type, repo).resolve("blobs").resolve(etag);
    }

    public Path snapshotDir(RepoType type, String repo, String commit) {
        return repoDir(type, repo).resolve("snapshots").resolve(commit);
    }

    /** The commit a revision names: itself when it is a commit hash, else the content of refs/&lt;revision&gt;. */
    public Optional<String> resolveRevision(RepoType type, String repo, String revision) {
        if (isCommitHash(revision)) return Optional.of(revision);
        Path ref = repoDir(type, repo).resolve("refs").resolve(revision);
        if (!ref.normalize().startsWith(repoDir(type, repo).resolve("refs")) || !Files.isRegularFile(ref)) return Optional.empty();
        try {
            String commit = Files.readString(ref).trim();
            return commit.isEmpty() || commit.contains("/") || commit.contains("..") ? Optional.empty() : Optional.of(commit);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The snapshot folder of a revision, if the cache has it. */
    public Optional<Path> snapshot(RepoType type, String repo, String revision) {
        return resolveRevision(type, repo, revision).map(c -> snapshotDir(type, repo, c)).filter(Files::isDirectory);
    }

    /** A cached file of a revision (a link whose blob is present), if any. */
    public Optional<Path> file(RepoType type, String repo, String revision, String file) {
        checkFileName(repo, file);
        return snapshot(type, repo, revision).map(s -> s.resolve(file)).filter(Files::isRegularFile);
    }

    /** Records that {@code revision} (a branch or tag) points at {@code commit}. */
    public void writeRef(RepoType type, String repo, String revision, String commit) throws IOException {
        if (revision.equals(commit)) return;
        Path refs = repoDir(type, repo).resolve("refs");
        Path ref = refs.resolve(revision).normalize();
        if (!ref.startsWith(refs)) throw new FinloraException(repo + ": invalid revision '" + revision + "'");
        Files.createDirectories(ref.getParent());
        Path tmp = Files.createTempFile(ref.getParent(), ".ref", ".tmp");
        try {
            Files.writeString(tmp, commit);
            AtomicFiles.moveIntoPlace(tmp, ref);
        } finally {
            AtomicFiles.deleteQuietly(tmp);
        }
    }
}
