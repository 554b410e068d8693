package org.finlora.io;

import org.finlora.FinloraException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** How ModelLoader dispatches a --model argument (the formats themselves are tested elsewhere). */
class ModelLoaderTest {
    @TempDir
    Path tmp;

    private static String error(String spec) {
        return assertThrows(FinloraException.class, () -> ModelLoader.load(spec, null)).getMessage();
    }

    @Test
    void missingFilesAreNamed() {
        String gguf = tmp.resolve("absent.gguf").toString();
        assertEquals(gguf + ": file not found", error(gguf));
        String bin = tmp.resolve("absent.bin").toString();
        assertEquals(bin + ": file not found", error(bin));
        assertTrue(error(tmp.resolve("a/b/c").toString()).contains("not found"));
        assertTrue(error(" ").contains("no model"));
    }

    @Test
    void ggufFilesGoToTheGgufReader() throws Exception {
        Path p = tmp.resolve("junk.gguf");
        Files.write(p, new byte[]{1, 2, 3, 4, 5, 6, 7, 8});
        assertEquals(p + ": no GGUF magic at offset 0 (not a GGUF file)", error(p.toString()));
    }

    @Test
    void foldersGoToTheHfLoader() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("folder"));
        assertEquals(dir.resolve("config.json") + ": file not found (is " + dir + " an HF model folder?)", error(dir.toString()));
        // With weights and config in place the loader gets as far as the tokenizer, which it asks for by folder.
        LoaderTest.hfFolder(dir, "", true);
        String msg = error(dir.toString());
        assertTrue(msg.contains(dir.toString()) && !msg.contains("not a model this build can load"), msg);
    }

    @Test
    void hubGgufSpecsSplitIntoRepoAndFile() {
        assertArrayEquals(new String[]{"TheBloke/Llama-2-7B-GGUF", "llama-2-7b.Q4_0.gguf"},
                ModelLoader.splitRepoFile("TheBloke/Llama-2-7B-GGUF/llama-2-7b.Q4_0.gguf"));
        assertArrayEquals(new String[]{"org/name", "sub/m.gguf"}, ModelLoader.splitRepoFile("org/name/sub/m.gguf"));
        assertNull(ModelLoader.splitRepoFile("/abs/path/m.gguf"));
        assertNull(ModelLoader.splitRepoFile("./rel/path/m.gguf"));
        assertNull(ModelLoader.splitRepoFile("name/m.gguf"));
        assertNull(ModelLoader.splitRepoFile("org/name/../m.gguf"));
        assertEquals("local/m.gguf: file not found", error("local/m.gguf"));
    }

    @Test
    void otherFilesAreRefused() throws Exception {
        Path p = Files.writeString(tmp.resolve("notes.txt"), "hi");
        assertTrue(error(p.toString()).contains("not a model this build can load"));
    }
}
