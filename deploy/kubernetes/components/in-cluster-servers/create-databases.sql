-- Run once by the postgres image on an empty volume: the three services' databases (each creates its own tables).
CREATE DATABASE settings;
CREATE DATABASE content;
CREATE DATABASE chat;
